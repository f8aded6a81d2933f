"""The case's diagram for the browser's viewer: its XML with names in the reader's language, and its marks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from service.domain.errors import NotFound
from service.domain.staff import ROLE_NAMES, Actor
from service.engine.names import diagram_names, element_names, translations, with_names
from service.persistence.repositories import StoredInstance
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
    return element_names(own, language, translations(processes_dir, process_id), ROLE_NAMES)


def _names_dir(runtime: Runtime, stored: StoredInstance, processes_dir: Path) -> Path:
    """Where the case's own version keeps its declarations (its names file); the processes folder before versions."""
    if runtime.deployments is not None and stored.deployment_hash:
        try:
            return runtime.deployments.directory(stored.deployment_hash) / "processes"
        except NotFound:
            pass
    return processes_dir


def case_names(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, own: Mapping[str, str],
               language: str, processes_dir: Path) -> dict[str, str]:
    """The case's element names in ``language``, from the names file of the version the case runs on."""
    stored = readable_case(uow, runtime, actor, instance_id)
    return localized_names(_names_dir(runtime, stored, processes_dir), stored.process_id, own, language)


def case_diagram(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, now: datetime,
                 language: str, processes_dir: Path) -> CaseDiagram:
    """The diagram version the case runs on, marked, as this person may see it (else NotFound)."""
    stored = readable_case(uow, runtime, actor, instance_id)
    progress = case_progress(uow, runtime, actor=actor, instance_id=stored.id, now=now)
    names = localized_names(_names_dir(runtime, stored, processes_dir), stored.process_id,
                            diagram_names(progress.source), language)
    return CaseDiagram(xml=with_names(progress.source, names).decode("utf-8"), marks=dict(progress.marks),
                       names=names)
