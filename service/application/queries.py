"""Read-only use cases: task lists and case history, served from narrow tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.errors import NotFound, TaskNotReady
from service.domain.model import EventRecord, OutboxItem, PendingTimer, TaskSummary
from service.persistence.uow import UnitOfWork

from ._running import resume
from .runtime import Runtime

MAX_PAGE_SIZE = 200
#: A task list counts at most this many tasks past the current page: the pager then says "n+", and
#: the page costs the same with 1,000 or 100,000 open cases (benchmark 2).
COUNT_CAP = 1000


@dataclass(frozen=True)
class TaskPage:
    """One page of a task list and the total it is a page of."""

    items: list[TaskSummary]
    total: int
    page: int
    per_page: int
    #: True when there are more tasks than were counted (the count stops at :data:`COUNT_CAP`).
    more: bool = False

    @property
    def pages(self) -> int:
        """How many pages the filtered list has (at least; see ``more``)."""
        return max(1, -(-self.total // self.per_page))


def list_tasks(
    uow: UnitOfWork, *, role: str | None = None, assignee: str | None = None, process_id: str | None = None,
    overdue_at: datetime | None = None, stage: str | None = None, page: int = 1, per_page: int = 50,
) -> TaskPage:
    """Open tasks of a role or an assignee, oldest first; ``overdue_at`` keeps only those due before it."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    items = uow.tasks.page(lane=role, assignee=assignee, process_id=process_id, overdue_at=overdue_at,
                           element_id=stage, limit=per_page, offset=(page - 1) * per_page)
    cap = (page - 1) * per_page + COUNT_CAP
    total = uow.tasks.count(lane=role, assignee=assignee, process_id=process_id, overdue_at=overdue_at,
                            element_id=stage, cap=cap + 1)
    return TaskPage(items=items, total=min(total, cap), page=page, per_page=per_page, more=total > cap)


@dataclass(frozen=True)
class CaseView:
    """A case's status, what it waits on, what it sent, and its history."""

    instance_id: int
    process_id: str
    business_key: str
    status: str
    version: int
    open_tasks: list[TaskSummary]
    timers: list[PendingTimer]
    outbox: list[OutboxItem]
    history: list[EventRecord]


def case_view(uow: UnitOfWork, instance_id: int) -> CaseView | None:
    """Everything shown about one case, without deserializing its workflow."""
    stored = uow.instances.get(instance_id)
    if stored is None:
        return None
    return CaseView(
        instance_id=stored.id, process_id=stored.process_id, business_key=stored.business_key,
        status=stored.status, version=stored.version,
        open_tasks=uow.tasks.for_instance(stored.id),
        timers=uow.timers.for_instance(stored.id),
        outbox=uow.outbox.listing(instance_id=stored.id),
        history=uow.events.for_instance(stored.id),
    )


def find_case(uow: UnitOfWork, process_id: str, business_key: str) -> int | None:
    """The id of the case of ``process_id`` with this business key."""
    return uow.instances.id_for_key(process_id, business_key.strip())


@dataclass(frozen=True)
class TaskContext:
    """What the task page shows: the task, its case, and the case's data as the task sees it."""

    task: TaskSummary
    case: CaseView
    data: dict[str, Any]


def task_context(uow: UnitOfWork, runtime: Runtime, task_id: str) -> TaskContext:
    """The open task ``task_id`` with its case and data (one workflow load, for one page)."""
    task = uow.tasks.get(task_id)
    if task is None:
        raise TaskNotReady("this task is no longer open: someone else completed it, or it was cancelled")
    case = case_view(uow, task.instance_id)
    stored = uow.instances.get(task.instance_id)
    if case is None or stored is None:
        raise NotFound(f"case {task.instance_id} does not exist")
    data = resume(uow, runtime, stored).task_data(task_id)
    return TaskContext(task=task, case=case, data=data)


@dataclass(frozen=True)
class CaseProgress:
    """Where a case stands on its own diagram version: the drawing's source, marks, names and data."""

    source: bytes
    marks: dict[str, str]
    element_names: dict[str, str]
    data: dict[str, Any]


def case_progress(uow: UnitOfWork, runtime: Runtime, instance_id: int, now: datetime) -> CaseProgress:
    """The case's diagram version with elements marked completed / active / overdue (one workflow load)."""
    stored = uow.instances.get(instance_id)
    if stored is None:
        raise NotFound(f"case {instance_id} does not exist")
    run = resume(uow, runtime, stored)
    marks = run.element_states()
    for task in uow.tasks.for_instance(instance_id):
        if task.due_at is not None and task.due_at < now:
            marks[task.element_id] = "overdue"
    names = {element_id: info.name for element_id, info in run.diagram.elements.items()}
    return CaseProgress(run.diagram.source, marks, names, run.snapshot().data)


def case_data(uow: UnitOfWork, runtime: Runtime, instance_id: int) -> dict[str, Any]:
    """The case's current variables (for the case page's summary)."""
    stored = uow.instances.get(instance_id)
    if stored is None:
        raise NotFound(f"case {instance_id} does not exist")
    return resume(uow, runtime, stored).snapshot().data
