"""The staff's two lists: one inbox of every task of all their roles, and the case list, both searchable.

Need to know: a person finds and sees the people (child, applicant, IINs) only of the cases one of
their roles works on — the tasks of their lanes, the cases of their organisations' processes they
hold a lane in, or the complaints against their organisation for its appealed lanes and readers.
An administrator also lists the cases of the organisations they administer that had an incident
(to repair them), by number and state only: the people on them are withheld and a search for a
person does not look there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from service.domain.calendar import WorkingCalendar
from service.domain.model import TaskSummary
from service.domain.search import parse_query
from service.domain.staff import Actor
from service.domain.time import ALMATY, to_local
from service.persistence.case_index import CaseScope, IndexedCase, case_index_of
from service.persistence.uow import UnitOfWork

from .access import declaration
from .process_access import process_lanes
from .queries import COUNT_CAP, MAX_PAGE_SIZE, TaskPage, list_tasks
from .runtime import Runtime

#: The role that sees its organisations' cases that had an incident.
REPAIR_ROLE = "administrator"


@dataclass(frozen=True)
class InboxRow:
    """One task of the inbox with what the list shows beside it."""

    task: TaskSummary
    child_name: str
    #: Working days to the due date (0 on the day, negative once past), None without one.
    days_left: int | None
    overdue: bool
    #: The full name of whoever has taken the task (None when nobody has).
    assignee_name: str | None


@dataclass(frozen=True)
class Inbox:
    """A page of the inbox."""

    rows: list[InboxRow]
    page: TaskPage


def working_cutoff(calendar: WorkingCalendar, now: datetime, days: int) -> datetime:
    """The instant after the ``days``-th working day from today ends: what is due before it is due within."""
    day = to_local(now).date()
    for _ in range(max(0, days)):
        day = calendar.next_working_day(day)
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ALMATY)


def inbox(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, calendar: WorkingCalendar, now: datetime,
          role: str | None = None, mine: bool = False, process_id: str | None = None, stage: str | None = None,
          overdue: bool = False, due_within: int | None = None, search: str | None = None, page: int = 1,
          per_page: int = 25) -> Inbox:
    """The open tasks of all this person's roles in all their organisations, narrowed and searched as asked."""
    due_before = working_cutoff(calendar, now, due_within) if due_within is not None else None
    found = list_tasks(uow, runtime, actor=actor, role=role, mine=mine, process_id=process_id, stage=stage,
                       overdue_at=now if overdue else None, due_before=due_before, search=search, page=page,
                       per_page=per_page)
    index = case_index_of(uow)
    people = index.people({task.instance_id for task in found.items})
    names = index.full_names({task.assignee for task in found.items if task.assignee})
    rows = [
        InboxRow(
            task=task,
            child_name=people[task.instance_id].child_name if task.instance_id in people else "",
            days_left=calendar.working_days_left(now, task.due_at) if task.due_at else None,
            overdue=bool(task.due_at and task.due_at < now),
            assignee_name=names.get(task.assignee, task.assignee) if task.assignee else None,
        )
        for task in found.items
    ]
    return Inbox(rows, found)


def case_scope(runtime: Runtime, actor: Actor) -> CaseScope:
    """The cases this person may list: per organisation, the processes they know it in, and what they repair."""
    if not actor.is_person:
        return CaseScope()
    owned, appealed = [], []
    for membership in actor.memberships:
        as_owner, as_appealed = set(), set()
        for diagram in runtime.engine.library.diagrams():
            rules = declaration(runtime, diagram.process_id)
            if membership.roles & process_lanes(diagram):
                as_owner.add(diagram.process_id)
            if membership.roles & (rules.appealed_lanes | rules.appealed_readers):
                as_appealed.add(diagram.process_id)
        if as_owner:
            owned.append((membership.organisation_id, frozenset(as_owner)))
        if as_appealed:
            appealed.append((membership.organisation_id, frozenset(as_appealed)))
    repairs = frozenset(m.organisation_id for m in actor.memberships if REPAIR_ROLE in m.roles)
    return CaseScope(owned=owned, appealed=appealed, repairs=repairs)


def knows_people(scope: CaseScope, case: IndexedCase) -> bool:
    """Whether one of this person's roles works on the case (so they may see who it is about)."""
    return (any(org == case.organisation_id and case.process_id in processes for org, processes in scope.owned)
            or any(org == case.appealed_organisation_id and case.process_id in processes
                   for org, processes in scope.appealed))


@dataclass(frozen=True)
class CaseListPage:
    """One page of the case list; ``total`` is capped like the task list's."""

    rows: list[IndexedCase]
    total: int
    page: int
    per_page: int
    more: bool
    #: Whether this person has a case list at all (no role that works on or repairs cases: none).
    available: bool

    @property
    def pages(self) -> int:
        """How many pages the filtered list has (at least; see ``more``)."""
        return max(1, -(-self.total // self.per_page))


def may_list_cases(runtime: Runtime, actor: Actor) -> bool:
    """Whether this person has a case list (a role that works on cases, or administers an organisation)."""
    scope = case_scope(runtime, actor)
    return bool(scope.owned or scope.appealed or scope.repairs)


def list_cases(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, search: str | None = None,
               process_id: str | None = None, stage: str | None = None, status: str | None = None,
               page: int = 1, per_page: int = 25) -> CaseListPage:
    """The cases this person may see, newest first, searched by number, IIN or name where they may."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    scope = case_scope(runtime, actor)
    available = bool(scope.owned or scope.appealed or scope.repairs)
    filters: dict[str, Any] = {"query": parse_query(search), "process_id": process_id, "stage": stage,
                               "status": status}
    index = case_index_of(uow)
    rows = index.page(scope, **filters, limit=per_page, offset=(page - 1) * per_page)
    cap = (page - 1) * per_page + COUNT_CAP
    total = index.count(scope, **filters, cap=cap + 1)
    shown = [row if knows_people(scope, row) else _withheld(row) for row in rows]
    return CaseListPage(shown, min(total, cap), page, per_page, total > cap, available)


def _withheld(case: IndexedCase) -> IndexedCase:
    return replace(case, child_name="", child_iin="", applicant_name="", applicant_iin="")
