"""Read-only use cases: task lists and case history, served from narrow tables, need to know applied."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from service.domain.documents import DocumentInfo
from service.domain.model import EventRecord, OutboxItem, PendingTimer, TaskSummary
from service.domain.organisations import Organisation
from service.domain.search import parse_query
from service.domain.staff import Actor
from service.domain.stages import STAGES, UNMAPPED
from service.persistence.repositories import AttachmentInfo, StoredInstance
from service.persistence.task_search import TaskFilter, task_search_of
from service.persistence.uow import UnitOfWork

from ._running import resume
from .access import declaration, may_read_case, may_read_medical, readable_case, task_scope
from .attachments import case_attachments
from .cases import may_record_court_appeal, open_task
from .runtime import Runtime

MAX_PAGE_SIZE = 200
#: A task list counts at most this many tasks past the current page: the pager then says "n+", and
#: the page costs the same with 1,000 or 100,000 open cases (benchmark 2).
COUNT_CAP = 1000
#: What replaces medical data for someone whose role does not need it.
WITHHELD = "—"


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
    uow: UnitOfWork, runtime: Runtime, *, actor: Actor, role: str | None = None, mine: bool = False,
    process_id: str | None = None, overdue_at: datetime | None = None, stage: str | None = None, page: int = 1,
    per_page: int = 50, search: str | None = None, due_before: datetime | None = None,
) -> TaskPage:
    """Open tasks this person may do (all their roles in all their organisations), oldest first.

    ``role`` narrows to one role, ``mine`` to the tasks they have taken; ``stage`` to the tasks of
    one §8 stage; ``overdue_at`` and ``due_before`` keep only those due before the instant given;
    ``search`` to the tasks of the cases found by number, IIN or the start of a name (the person
    already knows these cases: each is one of their roles' tasks).
    """
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    scope = task_scope(runtime, actor)
    cutoffs = [instant for instant in (overdue_at, due_before) if instant is not None]
    if scope is None:  # the service itself: every task, by the plain filters
        filters: dict[str, Any] = {"scope": None, "lane": role, "assignee": actor.login if mine else None,
                                   "process_id": process_id, "overdue_at": min(cutoffs, default=None)}
        items = uow.tasks.page(**filters, limit=per_page, offset=(page - 1) * per_page)
        total = uow.tasks.count(**filters, cap=(page - 1) * per_page + COUNT_CAP + 1)
    else:
        wanted = TaskFilter(lane=role, assignee=actor.login if mine else None, process_id=process_id,
                            elements=stage_elements(runtime, stage) if stage else None,
                            due_before=min(cutoffs, default=None), query=parse_query(search))
        tasks = task_search_of(uow)
        items = tasks.page(scope, wanted, limit=per_page, offset=(page - 1) * per_page)
        total = tasks.count(scope, wanted, cap=(page - 1) * per_page + COUNT_CAP + 1)
    cap = (page - 1) * per_page + COUNT_CAP
    return TaskPage(items=items, total=min(total, cap), page=page, per_page=per_page, more=total > cap)


def stage_elements(runtime: Runtime, stage: str) -> set[tuple[str, str]]:
    """The (process, user task) pairs of the current diagrams that stand for the §8 stage ``stage``."""
    return {(d.process_id, e.element_id) for d in runtime.engine.library.diagrams()
            for e in d.elements.values() if e.kind == "userTask" and (e.stage or UNMAPPED) == stage}


def task_stages(runtime: Runtime, process_id: str | None = None) -> list[str]:
    """The §8 stages some user task (of ``process_id``, if given) stands for, in the fixed list's order."""
    found = {e.stage or UNMAPPED for d in runtime.engine.library.diagrams() if process_id in (None, d.process_id)
             for e in d.elements.values() if e.kind == "userTask"}
    return [code for code in STAGES if code in found]


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
    organisation_id: int | None = None
    #: Whether the reader's role needs the case's medical data (it is withheld otherwise).
    medical: bool = False


def case_view(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int) -> CaseView:
    """Everything shown about one case, without deserializing its workflow; NotFound if not for this person."""
    stored = readable_case(uow, runtime, actor, instance_id)
    return _view(uow, runtime, actor, stored)


def _view(uow: UnitOfWork, runtime: Runtime, actor: Actor, stored: StoredInstance) -> CaseView:
    medical = may_read_medical(runtime, actor, stored)
    outbox = uow.outbox.listing(instance_id=stored.id)
    if not medical:
        fields = declaration(runtime, stored.process_id).medical_fields
        outbox = [_replace_payload(item, withhold(item.payload, fields)) for item in outbox]
    return CaseView(
        instance_id=stored.id, process_id=stored.process_id, business_key=stored.business_key,
        status=stored.status, version=stored.version,
        open_tasks=uow.tasks.for_instance(stored.id),
        timers=uow.timers.for_instance(stored.id),
        outbox=outbox,
        history=uow.events.for_instance(stored.id),
        organisation_id=stored.organisation_id,
        medical=medical,
    )


def _replace_payload(item: OutboxItem, payload: dict[str, Any]) -> OutboxItem:
    return replace(item, payload=payload)


def withhold(data: Any, fields: Iterable[str]) -> Any:
    """``data`` with every value under a medical key replaced by :data:`WITHHELD`, at any depth."""
    names = frozenset(fields)
    if isinstance(data, dict):
        return {key: (WITHHELD if key in names else withhold(value, names)) for key, value in data.items()}
    if isinstance(data, list):
        return [withhold(item, names) for item in data]
    return data


def find_case(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str, business_key: str) -> int | None:
    """The id of the case of ``process_id`` with this business key, if this person may see it."""
    instance_id = uow.instances.id_for_key(process_id, business_key.strip())
    if instance_id is None:
        return None
    stored = uow.instances.get(instance_id)
    return instance_id if stored is not None and may_read_case(uow, runtime, actor, stored) else None


@dataclass(frozen=True)
class TaskContext:
    """What the task page shows: the task, its case, and the case's data as the task sees it."""

    task: TaskSummary
    case: CaseView
    data: dict[str, Any]


def task_context(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, task_id: str) -> TaskContext:
    """The open task ``task_id`` with its case and data (one workflow load, for one page)."""
    task = open_task(uow, actor, task_id)
    stored = readable_case(uow, runtime, actor, task.instance_id)
    case = _view(uow, runtime, actor, stored)
    data = resume(uow, runtime, stored).task_data(task_id)
    if not case.medical:
        data = withhold(data, declaration(runtime, stored.process_id).medical_fields)
    return TaskContext(task=task, case=case, data=data)


@dataclass(frozen=True)
class CaseProgress:
    """Where a case stands on its own diagram version: the drawing's source, marks, names and data."""

    source: bytes
    marks: dict[str, str]
    element_names: dict[str, str]
    data: dict[str, Any]


def case_progress(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, now: datetime) -> CaseProgress:
    """The case's diagram version with elements marked completed / active / overdue (one workflow load)."""
    return _progress(uow, runtime, actor, readable_case(uow, runtime, actor, instance_id), now)


def _progress(uow: UnitOfWork, runtime: Runtime, actor: Actor, stored: StoredInstance, now: datetime) -> CaseProgress:
    run = resume(uow, runtime, stored)
    marks = run.element_states()
    for task in uow.tasks.for_instance(stored.id):
        if task.due_at is not None and task.due_at < now:
            marks[task.element_id] = "overdue"
    names = {element_id: info.name for element_id, info in run.diagram.elements.items()}
    data = run.snapshot().data
    if not may_read_medical(runtime, actor, stored):
        data = withhold(data, declaration(runtime, stored.process_id).medical_fields)
    return CaseProgress(run.diagram.source, marks, names, data)


@dataclass(frozen=True)
class CasePage:
    """Everything the case page shows, read with one access check and one load of the case."""

    view: CaseView
    progress: CaseProgress
    documents: list[DocumentInfo]
    attachments: list[AttachmentInfo]
    organisation: Organisation | None
    may_record_appeal: bool


def case_page(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, now: datetime) -> CasePage:
    """The case as this person may see it: status, diagram progress, documents, scans, its organisation."""
    stored = readable_case(uow, runtime, actor, instance_id)
    return CasePage(
        view=_view(uow, runtime, actor, stored),
        progress=_progress(uow, runtime, actor, stored, now),
        documents=uow.documents.for_instance(stored.id),
        attachments=case_attachments(uow, runtime, actor=actor, case=stored),
        organisation=uow.organisations.get(stored.organisation_id) if stored.organisation_id else None,
        may_record_appeal=may_record_court_appeal(actor, stored),
    )


def case_data(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int) -> dict[str, Any]:
    """The case's current variables as this person may see them."""
    stored = readable_case(uow, runtime, actor, instance_id)
    data = resume(uow, runtime, stored).snapshot().data
    if not may_read_medical(runtime, actor, stored):
        data = withhold(data, declaration(runtime, stored.process_id).medical_fields)
    return dict(data)
