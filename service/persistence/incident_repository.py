"""Incidents: at most one open per case; each failure of that case adds a try to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Table, bindparam, func, insert, select, update

from service.domain.incidents import Incident

from .models import IncidentRow, ProcessInstance
from .prepared import Prepared
from .repositories import Repository

_Incident_T: Table = IncidentRow.__table__  # type: ignore[assignment]
_Incident_C = _Incident_T.c
_Instance_T: Table = ProcessInstance.__table__  # type: ignore[assignment]
_Instance_C = _Instance_T.c

#: Longest error text kept (the engine's description plus its location fits well within it).
MAX_ERROR_CHARS = 4000

_COLUMNS = (
    _Incident_C.id, _Incident_C.instance_id, _Instance_C.business_key, _Instance_C.process_id,
    _Incident_C.diagram_hash.label("diagram_version"), _Incident_C.element_id, _Incident_C.element_name,
    _Incident_C.kind, _Incident_C.error, _Incident_C.first_at, _Incident_C.last_at, _Incident_C.tries,
    _Incident_C.next_try_at, _Incident_C.resolved_at, _Incident_C.resolved_by, _Incident_C.resolution,
)


def _incident(row: Any) -> Incident:
    return Incident(**row._mapping)


def _select() -> Any:
    return select(*_COLUMNS).select_from(
        _Incident_T.join(_Instance_T, _Instance_C.id == _Incident_C.instance_id))


_NAMES = tuple(column.name for column in _COLUMNS)
# Asked at every task page and every step: built once.
_OPEN_FOR = Prepared(_select().where(_Incident_C.instance_id == bindparam("case_id"),
                                     _Incident_C.resolved_at.is_(None)))


class IncidentRepository(Repository):
    """Record, find, list and resolve incidents."""

    def record(self, *, instance_id: int, kind: str, error: str, element_id: str | None,
               element_name: str | None, now: datetime, next_try_at: datetime | None = None) -> Incident:
        """Open the case's incident, or add a try to the one already open (last_at, error, element)."""
        error = error[:MAX_ERROR_CHARS]
        open_query = select(_Incident_C.id).where(_Incident_C.instance_id == instance_id,
                                                  _Incident_C.resolved_at.is_(None))
        if self.skip_locked:
            open_query = open_query.with_for_update()
        incident_id = self.session.execute(open_query).scalar_one_or_none()
        if incident_id is None:
            diagram = self.session.execute(
                select(_Instance_C.diagram_hash).where(_Instance_C.id == instance_id)).scalar_one_or_none()
            incident_id = self.session.execute(insert(_Incident_T).values(
                instance_id=instance_id, diagram_hash=diagram, kind=kind, element_id=element_id,
                element_name=element_name, error=error, first_at=now, last_at=now, tries=1,
                next_try_at=next_try_at,
            ).returning(_Incident_C.id)).scalar_one()
        else:
            self.session.execute(update(_Incident_T).where(_Incident_C.id == incident_id).values(
                kind=kind, error=error, element_id=element_id, element_name=element_name, last_at=now,
                tries=_Incident_C.tries + 1, next_try_at=next_try_at,
            ))
        found = self.get(incident_id)
        assert found is not None
        return found

    def get(self, incident_id: int) -> Incident | None:
        """One incident by id."""
        row = self.session.execute(_select().where(_Incident_C.id == incident_id)).first()
        return _incident(row) if row else None

    def open_for(self, instance_id: int) -> Incident | None:
        """The case's open incident, if it has one."""
        row = _OPEN_FOR.first(self.session, {"case_id": instance_id})
        return Incident(**dict(zip(_NAMES, row, strict=True))) if row else None

    def for_instance(self, instance_id: int) -> list[Incident]:
        """Every incident of one case, newest first."""
        rows = self.session.execute(_select().where(_Incident_C.instance_id == instance_id)
                                    .order_by(_Incident_C.first_at.desc(), _Incident_C.id.desc()))
        return [_incident(row) for row in rows]

    def listing(self, *, status: Literal["open", "resolved", "all"] = "open", process_id: str | None = None,
                element_id: str | None = None, kind: str | None = None, limit: int = 200) -> list[Incident]:
        """Incidents, most recently failed first, filtered by status, process, element and kind."""
        query = _select()
        if status == "open":
            query = query.where(_Incident_C.resolved_at.is_(None))
        elif status == "resolved":
            query = query.where(_Incident_C.resolved_at.is_not(None))
        if process_id:
            query = query.where(_Instance_C.process_id == process_id)
        if element_id:
            query = query.where(_Incident_C.element_id == element_id)
        if kind:
            query = query.where(_Incident_C.kind == kind)
        rows = self.session.execute(query.order_by(_Incident_C.last_at.desc(), _Incident_C.id.desc())
                                    .limit(max(1, limit)))
        return [_incident(row) for row in rows]

    def resolve(self, incident_id: int, *, by: str, resolution: str, now: datetime) -> None:
        """Close an open incident, saying who closed it and how (an already resolved one is left as is)."""
        self.session.execute(update(_Incident_T).where(
            _Incident_C.id == incident_id, _Incident_C.resolved_at.is_(None),
        ).values(resolved_at=now, resolved_by=by[:120], resolution=resolution[:500], next_try_at=None))

    def count_open(self) -> int:
        """How many incidents are open."""
        return int(self.session.execute(select(func.count()).select_from(_Incident_T)
                                        .where(_Incident_C.resolved_at.is_(None))).scalar_one())
