"""The task list with every filter: roles, process, §8 stage (its elements), due before, and search.

Like ``TaskRepository.page``, a person's list is merged from one short read per (organisation,
lane) through ``ix_open_tasks_org_lane_created``, so several roles cost a few index reads, not a
sort. A search first finds the matching cases in the case index (one indexed lookup) and keeps
only their tasks.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, func, or_, select, union_all

from service.domain.model import TaskSummary
from service.domain.search import CaseQuery

from .case_index import matching
from .models import OpenTaskRow
from .repositories import Repository, TaskScope
from .search_models import CaseIndexRow
from .uow import UnitOfWork

_Tasks: Table = OpenTaskRow.__table__  # type: ignore[assignment]
_T = _Tasks.c
_Index: Table = CaseIndexRow.__table__  # type: ignore[assignment]
_COLUMNS = (_T.task_id, _T.instance_id, _T.process_id, _T.business_key, _T.element_id, _T.title, _T.lane,
            _T.due_at, _T.assignee, _T.created_at, _T.organisation_id)


@dataclass(frozen=True)
class TaskFilter:
    """What narrows a person's task list; None or empty means not narrowed."""

    lane: str | None = None
    assignee: str | None = None
    process_id: str | None = None
    #: The elements of a stage: (process, element) pairs.
    elements: Collection[tuple[str, str]] | None = None
    due_before: datetime | None = None
    query: CaseQuery | None = None


#: A search narrows the list to at most this many cases (a name's beginning shared by more is too vague).
SEARCH_CAP = 1000


class TaskSearch(Repository):
    """Pages and counts of a person's open tasks under a :class:`TaskFilter`."""

    def __init__(self, session: Any, skip_locked: bool) -> None:
        super().__init__(session, skip_locked)
        self._found: dict[CaseQuery, list[int]] = {}

    def page(self, scope: TaskScope, wanted: TaskFilter, *, limit: int, offset: int) -> list[TaskSummary]:
        """Open tasks in scope matching the filter, oldest first."""
        query = self._query(_COLUMNS, scope, wanted, offset + limit)
        if query is None:
            return []
        if isinstance(query, Select):
            query = query.order_by(_T.created_at, _T.task_id).limit(limit).offset(offset)
        else:
            query = select(*query.c).order_by(query.c.created_at, query.c.task_id).limit(limit).offset(offset)
        return [TaskSummary(**row._mapping) for row in self.session.execute(query)]

    def count(self, scope: TaskScope, wanted: TaskFilter, *, cap: int) -> int:
        """How many tasks :meth:`page` pages through, at most ``cap``."""
        query = self._query((_T.task_id, _T.created_at), scope, wanted, cap)
        if query is None:
            return 0
        counted = query.limit(cap).subquery() if isinstance(query, Select) else query
        return min(cap, int(self.session.execute(select(func.count()).select_from(counted)).scalar_one()))

    def _cases(self, query: CaseQuery) -> list[int]:
        """The ids of the cases a search finds (one indexed lookup, remembered for the count)."""
        if query not in self._found:
            rows = self.session.execute(select(_Index.c.instance_id).where(matching(query)).limit(SEARCH_CAP))
            self._found[query] = sorted(int(row[0]) for row in rows)
        return self._found[query]

    def _query(self, columns: Any, scope: TaskScope, wanted: TaskFilter, first: int) -> Any:
        """A plain select (one lane, or a search: few rows), a merged subquery (several lanes), or None."""
        pairs = [(org, lane) for org, lanes in scope for lane in sorted(lanes) if wanted.lane in (None, lane)]
        if not pairs or (wanted.elements is not None and not wanted.elements):
            return None
        conditions = _conditions(wanted)
        if wanted.query is not None:  # the cases found are few: their tasks, then need to know
            cases = self._cases(wanted.query)
            if not cases:
                return None
            # "+ 0": the organisation's index must not be chosen to walk all its tasks in order
            allowed = or_(*(and_(_T.organisation_id + 0 == org, _T.lane == lane) for org, lane in pairs))
            return select(*columns).where(_T.instance_id.in_(cases), allowed, *conditions)
        if len(pairs) == 1:
            org, lane = pairs[0]
            return select(*columns).where(_T.organisation_id == org, _T.lane == lane, *conditions)
        parts: list[Select[Any]] = []
        for org, lane in pairs:
            part = select(*columns).where(_T.organisation_id == org, _T.lane == lane, *conditions)
            oldest = part.order_by(_T.created_at, _T.task_id).limit(first).subquery()
            parts.append(select(*oldest.c))
        return union_all(*parts).subquery()


def _conditions(wanted: TaskFilter) -> list[Any]:
    """The filter's conditions besides scope and search."""
    found: list[Any] = []
    if wanted.assignee is not None:
        found.append(_T.assignee == wanted.assignee)
    if wanted.process_id is not None:
        found.append(_T.process_id == wanted.process_id)
    if wanted.elements is not None:
        found.append(_of_elements(wanted.elements))
    if wanted.due_before is not None:
        found.append(_T.due_at < wanted.due_before)
    return found


def _of_elements(elements: Collection[tuple[str, str]]) -> Any:
    """Tasks at any of these (process, element) pairs."""
    by_process: dict[str, set[str]] = {}
    for process, element in elements:
        by_process.setdefault(process, set()).add(element)
    return or_(*(and_(_T.process_id == process, _T.element_id.in_(sorted(ids)))
                 for process, ids in sorted(by_process.items())))


def task_search_of(uow: UnitOfWork) -> TaskSearch:
    """The filtered task list inside this unit of work's transaction."""
    return TaskSearch(uow.session, uow.database.supports_skip_locked)
