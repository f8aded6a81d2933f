"""The analysts' modeler: the live version of a process, and a candidate checked, compared, tested, deployed.

The browser edits the diagram (bpmn-js's Modeler); these use cases take its XML:
- :func:`live_version` — the current deployed version of a process (its diagram and all its files);
- :func:`check_candidate` — the product's own validator on the candidate, with the live version's
  forms and the other processes as context;
- :func:`candidate_diff` — elements added, removed and changed against the live version;
- :func:`candidate_files` — every current file of the service with the candidate laid over, for the
  legal features' run (``feature_runs.start_run``);
- :func:`deploy_candidate` — deploys it (``deployments.deploy``) if the features passed on exactly
  these files, or with an override whose reason is logged with the analyst's name.
Every one is for the role ``analyst`` only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from service.domain.calendar import WorkingCalendar
from service.domain.errors import DomainError, InvalidInput, NotPermitted
from service.domain.model import EventRecord
from service.domain.problems import Problem
from service.domain.staff import Actor
from service.engine.library import parse_diagram
from service.engine.names import NAMES_SUFFIX
from service.engine.versions import DiagramDiff, diff_diagrams
from service.persistence.uow import UnitOfWork

from .deployed import write_files
from .deployments import DEPLOY_ROLE, DeploymentResult, UowFactory, deploy, find_version, version_diagram
from .feature_runs import FeatureRun, candidate_hash
from .runtime import Runtime
from .validation import DiagramFile, FileCheck, validate_diagrams

#: The longest diagram the modeler takes (the shipped ones are 60–120 KB).
MAX_DIAGRAM_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class LiveVersion:
    """The current version of a process: its hash, its diagram and every file of it."""

    process_id: str
    content_hash: str
    source: bytes
    files: dict[str, bytes]


def _check_analyst(actor: Actor) -> None:
    if not actor.is_person or not actor.has_role(DEPLOY_ROLE):
        raise NotPermitted(f"the modeler is for the role '{DEPLOY_ROLE}'")


def diagram_path(process_id: str) -> str:
    """The deployment path of a process's diagram."""
    return f"processes/{process_id}.bpmn"


def live_version(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str) -> LiveVersion:
    """The version of ``process_id`` cases start on now (NotFound if the process has none)."""
    _check_analyst(actor)
    stored = find_version(uow, process_id, "current")
    files = uow.deployments.files(stored)
    source = files.get(diagram_path(process_id)) or version_diagram(uow, runtime, stored).source
    return LiveVersion(process_id, stored.content_hash, source, files)


def _candidate_source(xml: str) -> bytes:
    source = xml.encode("utf-8")
    if not source.strip():
        raise InvalidInput("the diagram is empty")
    if len(source) > MAX_DIAGRAM_BYTES:
        raise InvalidInput(f"the diagram is larger than {MAX_DIAGRAM_BYTES // 1024} KB")
    return source


def check_candidate(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str, xml: str,
                    process_settings: Mapping[str, Any] | None = None,
                    form_choices: Mapping[str, Sequence[str]] | None = None,
                    calendar: WorkingCalendar | None = None,
                    checks: Sequence[FileCheck] | None = None) -> list[Problem]:
    """Every problem the product's validator finds in the candidate diagram of ``process_id``.

    ``checks``: the per-file checks to run (default: the validator's own; the web adds bpmnlint and layout).
    """
    live = live_version(uow, runtime, actor=actor, process_id=process_id)
    source = _candidate_source(xml)
    path = diagram_path(process_id)
    context = [DiagramFile(diagram_path(d.process_id), d.source) for d in runtime.engine.library.diagrams()
               if d.process_id != process_id]
    with tempfile.TemporaryDirectory(prefix="homeschool-modeler-") as scratch:
        root = Path(scratch)
        names = f"processes/{process_id}{NAMES_SUFFIX}"  # its refusal keys are checked against the live texts
        write_files(root, {p: c for p, c in live.files.items() if p.startswith("forms/") or p == names}
                    | {path: source})
        (root / "forms").mkdir(exist_ok=True)
        return validate_diagrams([DiagramFile(path, source, root / path)], root / "forms", context=context,
                                 process_settings=process_settings, form_choices=form_choices, calendar=calendar,
                                 checks=checks, declarations=runtime.declarations)


def candidate_diff(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str, xml: str) -> DiagramDiff:
    """The candidate's elements added, removed and changed against the live version."""
    live = live_version(uow, runtime, actor=actor, process_id=process_id)
    path = diagram_path(process_id)
    try:
        before = parse_diagram(live.source, path)
        after = parse_diagram(_candidate_source(xml), path)
    except DomainError as exc:
        raise InvalidInput(f"the diagram cannot be compared until it loads: {exc}") from exc
    return diff_diagrams(before, after)


def candidate_files(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str,
                    xml: str) -> dict[str, bytes]:
    """Every current file of every process, with the candidate diagram in place of the live one."""
    _check_analyst(actor)
    files: dict[str, bytes] = {}
    for _process, digest in sorted(uow.deployments.current().items()):
        stored = uow.deployments.get(digest)
        if stored is not None:
            files.update(uow.deployments.files(stored))
    if diagram_path(process_id) not in files:
        live_version(uow, runtime, actor=actor, process_id=process_id)  # NotFound for an unknown process
    files[diagram_path(process_id)] = _candidate_source(xml)
    return files


def deploy_candidate(uows: UowFactory, runtime: Runtime, *, actor: Actor, process_id: str, xml: str,
                     run: FeatureRun | None, override_reason: str, now: datetime) -> DeploymentResult:
    """Deploy the candidate if the legal features passed on it; otherwise only with a reason (logged)."""
    _check_analyst(actor)
    with uows() as uow:
        files = candidate_files(uow, runtime, actor=actor, process_id=process_id, xml=xml)
    tested = run is not None and run.state != "running" and run.candidate == candidate_hash(files)
    reason = " ".join(override_reason.split())
    if run is not None and run.state == "running":
        raise InvalidInput("the legal features are still running on this version: wait for their results")
    overridden = not (tested and run is not None and run.passed)
    if overridden and not reason:
        raise InvalidInput("the legal features have not passed on this version: run them, "
                           "or give the reason for deploying anyway")
    result = deploy(uows, runtime, actor=actor, files={diagram_path(process_id): files[diagram_path(process_id)]},
                    now=now, override_reason=reason if overridden else None)
    if overridden and result.changed:
        with uows() as uow:  # who went live without passing features, why, and which features failed
            failed = [f.name for f in run.features if f.failed] if tested and run is not None else []
            uow.events.append([EventRecord(at=now, actor=actor.login, action="features_overridden", details={
                "process": process_id, "analyst": actor.full_name, "reason": reason,
                "versions": [v.content_hash for v in result.versions if v.new],
                "run": run.run_id if tested and run is not None else None,
                "features_failed": failed, "features_ran": tested,
            })])
            uow.commit()
    return result
