"""The case index (``case_index``): written with each case, read by the case list and by search.

One row per case: number, organisations, status, §8 stage and the people the case is about.
A search is one indexed lookup (an IIN, a number, the start of a folded name) narrowed to the
cases a person may know; the case list pages through one organisation's cases newest first
through ``(organisation, opened)`` indexes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, exists, func, insert, or_, select, union_all, update

from service.domain.search import CasePeople, CaseQuery

from .models import InboxMessage, IncidentRow, StaffUser
from .prepared import Prepared
from .repositories import Repository
from .search_models import CaseIndexRow
from .uow import UnitOfWork

_Index: Table = CaseIndexRow.__table__  # type: ignore[assignment]
_I = _Index.c
_Incidents: Table = IncidentRow.__table__  # type: ignore[assignment]
_Staff: Table = StaffUser.__table__  # type: ignore[assignment]
_Inbox: Table = InboxMessage.__table__  # type: ignore[assignment]
#: Above every character a folded name holds: the end of a prefix range.
_PREFIX_END = "\uffff"


@dataclass(frozen=True)
class CaseScope:
    """The cases a person may find: per organisation, the processes they know as owner or as appealed.

    ``owned`` and ``appealed`` give people (names, IINs) and are searched by anything; ``repairs``
    (organisations a person administers) give only cases that had an incident, found by number.
    """

    owned: Sequence[tuple[int, frozenset[str]]] = ()
    appealed: Sequence[tuple[int, frozenset[str]]] = ()
    repairs: frozenset[int] = frozenset()


@dataclass(frozen=True)
class IndexedCase:
    """One row of the case list."""

    instance_id: int
    process_id: str
    business_key: str
    organisation_id: int | None
    appealed_organisation_id: int | None
    status: str
    stage: str
    child_name: str
    child_iin: str
    applicant_name: str
    applicant_iin: str
    opened_at: datetime


_COLUMNS = (_I.instance_id, _I.process_id, _I.business_key, _I.organisation_id, _I.appealed_organisation_id,
            _I.status, _I.stage, _I.child_name, _I.child_iin, _I.applicant_name, _I.applicant_iin, _I.opened_at)


def matching(query: CaseQuery) -> Any:
    """The condition on ``case_index`` a search puts (an indexed equality or prefix range)."""
    if query.iin is not None:
        return or_(_I.child_iin == query.iin, _I.applicant_iin == query.iin)
    if query.name is not None:
        end = query.name + _PREFIX_END
        return or_(and_(_I.child_key >= query.name, _I.child_key < end),
                   and_(_I.applicant_key >= query.name, _I.applicant_key < end))
    number = query.number or ""
    return and_(_I.number_key >= number, _I.number_key < number + _PREFIX_END)


class CaseIndexRepository(Repository):
    """Writes and reads of the case index."""

    def add(self, *, instance_id: int, process_id: str, business_key: str, organisation_id: int | None,
            appealed_organisation_id: int | None, status: str, opened_at: datetime, people: CasePeople,
            stage: str = "") -> None:
        """Index a new case."""
        self.session.execute(insert(_Index).values(
            instance_id=instance_id, process_id=process_id, business_key=business_key,
            number_key=business_key.upper(), organisation_id=organisation_id,
            appealed_organisation_id=appealed_organisation_id, status=status, stage=stage[:200], opened_at=opened_at,
            **_people_values(people)))

    def change(self, instance_id: int, *, status: str | None = None, stage: str | None = None,
               people: CasePeople | None = None, indexed: CasePeople | None = None) -> None:
        """Record what changed of an indexed case (nothing is written when nothing changed).

        ``indexed``: the people the row holds now, when known; then only the names and IINs that
        differ are written (each is in an index of its own, rewritten whenever its column is set).
        """
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if stage is not None:
            values["stage"] = stage[:200]
        if people is not None and people != indexed:  # the same people as the row holds: nothing to compare
            wanted = _people_values(people)
            if indexed is not None:
                held = _people_values(indexed)
                wanted = {column: value for column, value in wanted.items() if held[column] != value}
            values.update(wanted)
        if values:
            _change_statement(tuple(values)).execute(
                self.session, {"case_id": instance_id, **{f"new_{k}": v for k, v in values.items()}})

    def get(self, instance_id: int) -> IndexedCase | None:
        """One indexed case."""
        row = self.session.execute(select(*_COLUMNS).where(_I.instance_id == instance_id)).first()
        return IndexedCase(**row._mapping) if row else None

    def people(self, instance_ids: Collection[int]) -> dict[int, IndexedCase]:
        """The indexed rows of these cases (for the names beside a page of tasks)."""
        if not instance_ids:
            return {}
        rows = self.session.execute(select(*_COLUMNS).where(_I.instance_id.in_(sorted(instance_ids))))
        return {row.instance_id: IndexedCase(**row._mapping) for row in rows}

    def search_ids(self, query: CaseQuery) -> Any:
        """A subquery of the ids of the cases the search matches (to narrow another query)."""
        return select(_I.instance_id).where(matching(query))

    def case_for_message_key(self, idempotency_key: str) -> int | None:
        """The case that the message received with this idempotency key started or went to, if any."""
        return self.session.execute(
            select(_Inbox.c.instance_id).where(_Inbox.c.idempotency_key == idempotency_key)).scalar_one_or_none()

    def without_people(self, *, after: int, limit: int) -> list[int]:
        """Ids above ``after`` of indexed cases that name neither a child nor an applicant, in order."""
        rows = self.session.execute(
            select(_I.instance_id).where(_I.instance_id > after, _I.child_name == "", _I.applicant_name == "",
                                         _I.child_iin == "", _I.applicant_iin == "")
            .order_by(_I.instance_id).limit(limit))
        return [int(row[0]) for row in rows]

    def open_for_child(self, *, process_id: str, organisation_id: int, child_iin: str,
                       limit: int = 5) -> list[IndexedCase]:
        """Running cases of ``process_id`` at this organisation about the child with this IIN, newest first."""
        rows = self.session.execute(
            select(*_COLUMNS).where(_I.child_iin == child_iin, _I.process_id == process_id,
                                    _I.organisation_id == organisation_id, _I.status == "running")
            .order_by(_I.opened_at.desc(), _I.instance_id.desc()).limit(limit))
        return [IndexedCase(**row._mapping) for row in rows]

    def page(self, scope: CaseScope, *, query: CaseQuery | None = None, process_id: str | None = None,
             stage: str | None = None, status: str | None = None, limit: int = 25,
             offset: int = 0) -> list[IndexedCase]:
        """The cases in scope matching the search and filters, newest first."""
        found = self._query(scope, query, process_id, stage, status, first=offset + limit)
        if found is None:
            return []
        if isinstance(found, Select):
            found = found.order_by(_I.opened_at.desc(), _I.instance_id.desc()).limit(limit).offset(offset)
        else:
            found = select(*found.c).order_by(found.c.opened_at.desc(), found.c.instance_id.desc()).limit(
                limit).offset(offset)
        return [IndexedCase(**row._mapping) for row in self.session.execute(found)]

    def count(self, scope: CaseScope, *, query: CaseQuery | None = None, process_id: str | None = None,
              stage: str | None = None, status: str | None = None, cap: int = 1000) -> int:
        """How many cases :meth:`page` pages through (at most ``cap``)."""
        found = self._query(scope, query, process_id, stage, status, first=cap)
        if found is None:
            return 0
        counted = found.limit(cap).subquery() if isinstance(found, Select) else found
        return min(cap, int(self.session.execute(select(func.count()).select_from(counted)).scalar_one()))

    def _query(self, scope: CaseScope, query: CaseQuery | None, process_id: str | None, stage: str | None,
               status: str | None, first: int) -> Any:
        """A plain select (a search, or one way of knowing), a merged subquery of per-organisation reads, or None."""
        access = _access(scope, process_id, personal=query is not None and query.personal, searched=query is not None)
        if not access:
            return None
        filters = _filters(query, stage, status)
        if query is not None or len(access) == 1:  # a search finds few rows; one part reads its index in order
            return select(*_COLUMNS).where(or_(*access), *filters)
        parts: list[Select[Any]] = []
        for allowed in access:
            newest = (select(*_COLUMNS).where(allowed, *filters)
                      .order_by(_I.opened_at.desc(), _I.instance_id.desc()).limit(first).subquery())
            parts.append(select(*newest.c))
        return union_all(*parts).subquery()

    def full_names(self, logins: Collection[str]) -> dict[str, str]:
        """The full names of the staff with these logins."""
        if not logins:
            return {}
        rows = self.session.execute(select(_Staff.c.login, _Staff.c.full_name).where(
            _Staff.c.login.in_(sorted(logins))))
        return {row.login: row.full_name for row in rows}


#: The index's UPDATE per set of changed columns, built once (a step that moves a stage writes one).
_CHANGES: dict[tuple[str, ...], Prepared] = {}


def _change_statement(columns: tuple[str, ...]) -> Prepared:
    found = _CHANGES.get(columns)
    if found is None:
        found = Prepared(update(_Index).where(_I.instance_id == bindparam("case_id"))
                         .values({name: bindparam(f"new_{name}") for name in columns}))
        _CHANGES[columns] = found
    return found


def _people_values(people: CasePeople) -> dict[str, str]:
    return {"child_name": people.child_name, "child_key": people.child_key, "child_iin": people.child_iin,
            "applicant_name": people.applicant_name, "applicant_key": people.applicant_key,
            "applicant_iin": people.applicant_iin}



def case_index_of(uow: UnitOfWork) -> CaseIndexRepository:
    """The case index inside this unit of work's transaction."""
    return CaseIndexRepository(uow.session, uow.database.supports_skip_locked)


def _access(scope: CaseScope, process_id: str | None, personal: bool, searched: bool = False) -> list[Any]:
    """One condition per organisation and way of knowing its cases (repairs only when not looking for a person).

    For a search (``searched``) the organisation is compared as ``organisation + 0``, so that the
    search's own index is read rather than the organisation's cases walked in order.
    """
    found: list[Any] = []
    for column, pairs in ((_I.organisation_id, scope.owned), (_I.appealed_organisation_id, scope.appealed)):
        for org, processes in pairs:
            wanted = sorted(processes if process_id is None else processes & {process_id})
            if wanted:
                found.append(and_((column + 0 if searched else column) == org, _I.process_id.in_(wanted)))
    if not personal:
        for org in sorted(scope.repairs):
            had_incident = exists().where(_Incidents.c.instance_id == _I.instance_id)
            found.append(and_((_I.organisation_id + 0 if searched else _I.organisation_id) == org, had_incident,
                              *([_I.process_id == process_id] if process_id is not None else [])))
    return found


def _filters(query: CaseQuery | None, stage: str | None, status: str | None) -> list[Any]:
    """The search and the filters besides need to know."""
    found: list[Any] = []
    if query is not None:
        found.append(matching(query))
    if stage is not None:
        found.append(or_(_I.stage == stage, _I.stage.startswith(stage + "+"), _I.stage.endswith("+" + stage),
                         _I.stage.contains("+" + stage + "+")))
    if status is not None:
        found.append(_I.status == status)
    return found
