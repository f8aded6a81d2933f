"""Diagram names in the reader's language: the case's diagram for the viewer, and the names lists and pages print.

Every name comes from the names file of the version concerned (``processes/<id>.names.toml`` of
the case's deployed version, else of the process's current one, else the processes folder), then
the roles' names for lanes, then the diagram's own (Russian) name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from service.domain.errors import DomainError, NotFound
from service.domain.staff import Actor, known_roles, role_name
from service.engine.names import diagram_names, element_names, translations, with_names
from service.persistence.uow import UnitOfWork

from .access import readable_case
from .queries import case_progress
from .runtime import Runtime


@dataclass(frozen=True)
class CaseDiagram:
    """What the viewer draws: the case's own diagram version, renamed, and each element's state."""

    xml: str
    #: element id → ``completed`` / ``active`` / ``overdue``.
    marks: dict[str, str]
    #: element id → name in the reader's language (lanes, pools and flows included).
    names: dict[str, str]


def localized_names(processes_dir: Path, process_id: str, own: Mapping[str, str], language: str) -> dict[str, str]:
    """The diagram's element names in ``language``: its translations file, then the roles' names (lanes)."""
    roles = {role: {language: role_name(role, language)} for role in known_roles()}
    return element_names(own, language, translations(processes_dir, process_id), roles)


def names_dir(runtime: Runtime, process_id: str, processes_dir: Path, deployment_hash: str | None = None) -> Path:
    """The processes folder of a version: the one given, else the process's current one, else ``processes_dir``."""
    if runtime.deployments is not None:
        digest = deployment_hash or runtime.deployments.current_hash(process_id)
        if digest:
            try:
                return runtime.deployments.directory(digest) / "processes"
            except NotFound:
                pass
    return processes_dir


def current_names(runtime: Runtime, processes_dir: Path, process_id: str, language: str) -> dict[str, str]:
    """Every named element of the current version of ``process_id`` (process, pool and lanes too) in ``language``."""
    try:
        diagram = runtime.engine.library.current(process_id)
    except DomainError:
        return {}
    return localized_names(names_dir(runtime, process_id, processes_dir), process_id,
                           diagram_names(diagram.source), language)


def case_names(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, own: Mapping[str, str],
               language: str, processes_dir: Path) -> dict[str, str]:
    """The case's element names in ``language``, from the names file of the version the case runs on."""
    stored = readable_case(uow, runtime, actor, instance_id)
    return localized_names(names_dir(runtime, stored.process_id, processes_dir, stored.deployment_hash),
                           stored.process_id, own, language)


def case_diagram(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, now: datetime,
                 language: str, processes_dir: Path) -> CaseDiagram:
    """The diagram version the case runs on, marked, as this person may see it (else NotFound)."""
    stored = readable_case(uow, runtime, actor, instance_id)
    progress = case_progress(uow, runtime, actor=actor, instance_id=stored.id, now=now)
    names = localized_names(names_dir(runtime, stored.process_id, processes_dir, stored.deployment_hash),
                            stored.process_id,
                            diagram_names(progress.source), language)
    return CaseDiagram(xml=with_names(progress.source, names).decode("utf-8"), marks=dict(progress.marks),
                       names=names)


def element_namer(runtime: Runtime, processes_dir: Path) -> Callable[[str, str, str], str | None]:
    """(process id, element id, language) → the element's name in the current version; each process read once."""
    read: dict[tuple[str, str], dict[str, str]] = {}

    def name(process_id: str, element_id: str, language: str) -> str | None:
        key = (process_id, language)
        if key not in read:
            read[key] = current_names(runtime, processes_dir, process_id, language)
        return read[key].get(element_id)
    return name
