"""Read-only use cases: task lists and case history, served from narrow tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.model import EventRecord, OutboxItem, PendingTimer, TaskSummary
from service.persistence.uow import UnitOfWork

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class TaskPage:
    """One page of a task list and the total it is a page of."""

    items: list[TaskSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filtered list has."""
        return max(1, -(-self.total // self.per_page))


def list_tasks(
    uow: UnitOfWork, *, role: str | None = None, assignee: str | None = None, process_id: str | None = None,
    overdue_at: datetime | None = None, page: int = 1, per_page: int = 50,
) -> TaskPage:
    """Open tasks of a role or an assignee, oldest first; ``overdue_at`` keeps only those due before it."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    items = uow.tasks.page(lane=role, assignee=assignee, process_id=process_id, overdue_at=overdue_at,
                           limit=per_page, offset=(page - 1) * per_page)
    total = uow.tasks.count(lane=role, assignee=assignee, process_id=process_id, overdue_at=overdue_at)
    return TaskPage(items=items, total=total, page=page, per_page=per_page)


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
