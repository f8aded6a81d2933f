"""Who may see what of a process's cases, declared beside its diagram (``<process>.access.toml``).

A declaration names, for one process:

- ``[lanes]``: lanes whose tasks go to the organisation whose act is appealed (``"appealed"``)
  rather than to the organisation that owns the case (``"owner"``, the default);
- ``[read] medical``: roles of the owning organisation that need the medical data (the VKK
  conclusion and its scan) for their tasks — nobody else sees it; ``[read] medical_fields``:
  the case variables that hold it, at any depth (default ``["vkk_conclusion"]``);
- ``[read] related_case``: roles of the owning organisation that may read the case a complaint is
  about (the administrative case forwarded with it); ``[read] appealed``: roles of the appealed
  organisation that may read the case besides the appealed lanes (e.g. its registrar);
- ``[letterhead]``: document kinds issued on the appealed organisation's letterhead
  (``"appealed"``) rather than the owner's.

A process without a declaration gets the defaults: every lane works for the owner, nobody sees
medical data, nobody reads related cases.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.domain.errors import InvalidInput
from service.domain.staff import ADMIN_ROLES
from service.engine.library import Diagram

SUFFIX = ".access.toml"
#: The lane of automatic steps; nobody holds it.
SYSTEM_LANE = "system"


@dataclass(frozen=True)
class ProcessAccess:
    """Need to know for one process."""

    process_id: str
    appealed_lanes: frozenset[str] = frozenset()
    medical_roles: frozenset[str] = frozenset()
    related_case_roles: frozenset[str] = frozenset()
    appealed_documents: frozenset[str] = frozenset()
    #: Roles of the appealed organisation that may read the case besides its appealed lanes.
    appealed_readers: frozenset[str] = frozenset()
    #: Case variables holding medical data, hidden from roles outside ``medical_roles``.
    medical_fields: frozenset[str] = frozenset({"vkk_conclusion"})

    def lane_organisation(self, lane: str | None, owner: int | None, appealed: int | None) -> int | None:
        """The organisation whose staff do the tasks of ``lane``."""
        if lane in self.appealed_lanes and appealed is not None:
            return appealed
        return owner


def load_declarations(directory: Path, diagrams: Iterable[Diagram]) -> dict[str, ProcessAccess]:
    """Every ``*.access.toml`` in ``directory``, checked against the loaded diagrams' lanes."""
    lanes = {d.process_id: process_lanes(d) for d in diagrams}
    found: dict[str, ProcessAccess] = {}
    for path in sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []:
        process_id = path.name.removesuffix(SUFFIX)
        if process_id not in lanes:
            raise InvalidInput(f"{path}: there is no process '{process_id}' among the diagrams")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: not valid TOML ({exc})") from None
        found[process_id] = _declaration(path, process_id, data, lanes[process_id])
    return found


def _declaration(path: Path, process_id: str, data: dict[str, Any], lanes: frozenset[str]) -> ProcessAccess:
    lane_table = data.get("lanes", {})
    read = data.get("read", {})
    letterhead = data.get("letterhead", {})
    if not all(isinstance(table, dict) for table in (lane_table, read, letterhead)):
        raise InvalidInput(f"{path}: [lanes], [read] and [letterhead] must be tables")
    unknown = sorted(set(data) - {"lanes", "read", "letterhead"})
    if unknown:
        raise InvalidInput(f"{path}: unknown table(s) {', '.join(unknown)}; known: lanes, read, letterhead")
    for kind, whose in letterhead.items():
        if whose not in ("owner", "appealed"):
            raise InvalidInput(f"{path}: [letterhead] {kind} must be \"owner\" or \"appealed\"")
    for lane, where in lane_table.items():
        if lane not in lanes:
            known = ", ".join(sorted(lanes))
            raise InvalidInput(f"{path}: [lanes] {lane}: no such lane in {process_id} (lanes: {known})")
        if where not in ("owner", "appealed"):
            raise InvalidInput(f"{path}: [lanes] {lane} must be \"owner\" or \"appealed\"")
    return ProcessAccess(
        process_id=process_id,
        appealed_lanes=frozenset(lane for lane, where in lane_table.items() if where == "appealed"),
        medical_roles=_roles(path, read, "medical"),
        related_case_roles=_roles(path, read, "related_case"),
        appealed_readers=_roles(path, read, "appealed"),
        appealed_documents=frozenset(kind for kind, whose in letterhead.items() if whose == "appealed"),
        medical_fields=_roles(path, read, "medical_fields") if "medical_fields" in read
        else frozenset({"vkk_conclusion"}),
    )


def _roles(path: Path, read: Mapping[str, Any], key: str) -> frozenset[str]:
    value = read.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(f"{path}: [read] {key} must be a list of role names")
    return frozenset(value)


def process_lanes(diagram: Diagram) -> frozenset[str]:
    """The roles a diagram's people act in: its lanes, without the system's."""
    return frozenset(e.lane for e in diagram.elements.values() if e.lane and e.lane != SYSTEM_LANE)


def known_roles(diagrams: Iterable[Diagram]) -> list[str]:
    """Every role a person can hold: the loaded diagrams' lanes and the administrative roles."""
    roles: set[str] = set(ADMIN_ROLES)
    for diagram in diagrams:
        roles |= process_lanes(diagram)
    return sorted(roles)
