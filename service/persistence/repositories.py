"""Repositories: narrow SQL on the hot path, returning domain values, never ORM object graphs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from service.domain.errors import ConcurrencyConflict, DuplicateCase, DuplicateMessage
from service.domain.model import EventRecord, OpenTask, OutboxItem, PendingTimer, TaskSummary
from service.domain.staff import Actor, ApiClientInfo, Membership

from .models import (
    ApiClient,
    AttachmentRow,
    AwaitedMessageRow,
    DiagramVersion,
    EventLogEntry,
    InboxMessage,
    IncidentRow,
    MembershipRow,
    OpenTaskRow,
    OutboxMessage,
    PendingTimerRow,
    ProcessInstance,
    StaffUser,
)
from .prepared import Prepared, PreparedInsert

# Core tables, not ORM entities: statements on them skip the ORM's per-statement work (the hot
# path issues a handful of narrow statements per use case; see the benchmarks).
_DiagramVersion_T: Table = DiagramVersion.__table__  # type: ignore[assignment]
_DiagramVersion_C = _DiagramVersion_T.c
_ProcessInstance_T: Table = ProcessInstance.__table__  # type: ignore[assignment]
_ProcessInstance_C = _ProcessInstance_T.c
_OpenTaskRow_T: Table = OpenTaskRow.__table__  # type: ignore[assignment]
_OpenTaskRow_C = _OpenTaskRow_T.c
_PendingTimerRow_T: Table = PendingTimerRow.__table__  # type: ignore[assignment]
_PendingTimerRow_C = _PendingTimerRow_T.c
_AwaitedMessageRow_T: Table = AwaitedMessageRow.__table__  # type: ignore[assignment]
_AwaitedMessageRow_C = _AwaitedMessageRow_T.c
_InboxMessage_T: Table = InboxMessage.__table__  # type: ignore[assignment]
_InboxMessage_C = _InboxMessage_T.c
_OutboxMessage_T: Table = OutboxMessage.__table__  # type: ignore[assignment]
_OutboxMessage_C = _OutboxMessage_T.c
_Incident_T: Table = IncidentRow.__table__  # type: ignore[assignment]
_Incident_C = _Incident_T.c
_EventLogEntry_T: Table = EventLogEntry.__table__  # type: ignore[assignment]
_EventLogEntry_C = _EventLogEntry_T.c
_StaffUser_T: Table = StaffUser.__table__  # type: ignore[assignment]
_StaffUser_C = _StaffUser_T.c
_ApiClient_T: Table = ApiClient.__table__  # type: ignore[assignment]
_ApiClient_C = _ApiClient_T.c
_Membership_T: Table = MembershipRow.__table__  # type: ignore[assignment]
_Membership_C = _Membership_T.c


@dataclass(frozen=True)
class StoredInstance:
    """A case as stored: identity, diagram version, state and lock version."""

    id: int
    process_id: str
    business_key: str
    diagram_hash: str
    status: str
    state: str
    serializer_version: str
    version: int
    #: The organisation that owns the case (None only for cases from before organisations existed).
    organisation_id: int | None = None
    #: For a complaint: the organisation whose act is appealed.
    appealed_organisation_id: int | None = None
    #: For a complaint: the service case it is about.
    related_instance_id: int | None = None
    #: The deployment (diagram, forms, access file) the case runs on; None for a case not yet attached.
    deployment_hash: str | None = None


#: Which open tasks a person may see: (organisation id, the lanes they act in there).
TaskScope = Sequence[tuple[int, frozenset[str]]]


class Repository:
    """Base: every repository works inside its unit of work's transaction (Core statements on its connection)."""

    def __init__(self, session: Connection, skip_locked: bool) -> None:
        self.session = session
        self.skip_locked = skip_locked


class DiagramRepository(Repository):
    """Diagram versions, stored once per content hash."""

    def ensure(self, content_hash: str, process_id: str, file: str, source: bytes, now: datetime) -> bool:
        """Store this version unless it is already there; True if it was new."""
        found = self.session.execute(
            select(_DiagramVersion_C.content_hash).where(_DiagramVersion_C.content_hash == content_hash)
        ).first()
        if found:
            return False
        self.session.execute(
            insert(_DiagramVersion_T).values(
                content_hash=content_hash, process_id=process_id, file=file, source=source, stored_at=now
            )
        )
        return True

    def source(self, content_hash: str) -> tuple[bytes, str] | None:
        """The stored bytes and file name of a version."""
        row = self.session.execute(
            select(_DiagramVersion_C.source, _DiagramVersion_C.file).where(
                _DiagramVersion_C.content_hash == content_hash
            )
        ).first()
        return (row[0], row[1]) if row else None

    def versions_of(self, process_id: str) -> list[tuple[str, str, datetime]]:
        """(content hash, file, stored at) of every stored version of a process, newest first."""
        rows = self.session.execute(
            select(_DiagramVersion_C.content_hash, _DiagramVersion_C.file, _DiagramVersion_C.stored_at)
            .where(_DiagramVersion_C.process_id == process_id)
            .order_by(_DiagramVersion_C.stored_at.desc())
        )
        return [(row[0], row[1], row[2]) for row in rows]


_INSTANCE_COLUMNS = (
    _ProcessInstance_C.id,
    _ProcessInstance_C.process_id,
    _ProcessInstance_C.business_key,
    _ProcessInstance_C.diagram_hash,
    _ProcessInstance_C.status,
    _ProcessInstance_C.state,
    _ProcessInstance_C.serializer_version,
    _ProcessInstance_C.version,
    _ProcessInstance_C.organisation_id,
    _ProcessInstance_C.appealed_organisation_id,
    _ProcessInstance_C.related_instance_id,
    _ProcessInstance_C.deployment_hash,
)


# The hot path's statements, built once: each step reuses them (SQLAlchemy's compiled cache then
# skips building and compiling; only the values change).
_SAVE_STATE = Prepared(
    update(_ProcessInstance_T)
    .where(_ProcessInstance_C.id == bindparam("case_id"), _ProcessInstance_C.version == bindparam("expected_version"))
    .values(state=bindparam("new_state"), status=bindparam("new_status"),
            serializer_version=bindparam("new_serializer_version"), version=bindparam("new_version"),
            updated_at=bindparam("now"))
)


_INSTANCE_NAMES = tuple(column.name for column in _INSTANCE_COLUMNS)
_CASE = select(*_INSTANCE_COLUMNS).where(_ProcessInstance_C.id == bindparam("case_id"))
_CASE_READ = Prepared(_CASE)
_CASE_LOCKED = Prepared(_CASE.with_for_update())


class InstanceRepository(Repository):
    """Case state rows, with a version number for optimistic locking."""

    def add(
        self,
        *,
        process_id: str,
        business_key: str,
        diagram_hash: str,
        state: str,
        serializer_version: str,
        status: str,
        now: datetime,
        organisation_id: int | None = None,
        appealed_organisation_id: int | None = None,
        related_instance_id: int | None = None,
        deployment_hash: str | None = None,
    ) -> int:
        """Insert a new case at version 0 (its first save makes it 1) and return its id.

        Raises DuplicateCase when the process already has a case with this business key.
        """
        statement = (
            insert(_ProcessInstance_T)
            .values(
                organisation_id=organisation_id,
                appealed_organisation_id=appealed_organisation_id,
                related_instance_id=related_instance_id,
                process_id=process_id,
                business_key=business_key,
                diagram_hash=diagram_hash,
                deployment_hash=deployment_hash,
                state=state,
                serializer_version=serializer_version,
                status=status,
                version=0,
                created_at=now,
                updated_at=now,
            )
            .returning(_ProcessInstance_C.id)
        )
        try:
            result = self.session.execute(statement)
        except IntegrityError:
            raise DuplicateCase(f"a case of '{process_id}' with key '{business_key}' already exists") from None
        return int(result.scalar_one())

    def get(self, instance_id: int, lock: bool = False) -> StoredInstance | None:
        """Load a case; ``lock`` holds its row until the transaction ends."""
        row = (_CASE_LOCKED if lock else _CASE_READ).first(self.session, {"case_id": instance_id})
        return StoredInstance(*row) if row else None

    def by_key(self, business_key: str) -> list[StoredInstance]:
        """Every case with this business key (of any process), without their state."""
        rows = self.session.execute(
            select(*_INSTANCE_COLUMNS).where(_ProcessInstance_C.business_key == business_key)
            .order_by(_ProcessInstance_C.id)
        )
        return [StoredInstance(**{**row._mapping, "state": ""}) for row in rows]

    def complaints_about(self, instance_id: int) -> list[StoredInstance]:
        """The cases (complaints) whose related case is ``instance_id``, without their state."""
        rows = self.session.execute(
            select(*_INSTANCE_COLUMNS).where(_ProcessInstance_C.related_instance_id == instance_id)
        )
        return [StoredInstance(**{**row._mapping, "state": ""}) for row in rows]

    def id_for_key(self, process_id: str, business_key: str) -> int | None:
        """The case of ``process_id`` with this business key, if any."""
        return self.session.execute(
            select(_ProcessInstance_C.id).where(
                _ProcessInstance_C.process_id == process_id, _ProcessInstance_C.business_key == business_key
            )
        ).scalar_one_or_none()

    def save(
        self,
        instance_id: int,
        *,
        expected_version: int,
        state: str,
        status: str,
        serializer_version: str,
        now: datetime,
    ) -> int:
        """Write new state if nobody else did first; return the new version or raise a conflict."""
        changed = _SAVE_STATE.execute(self.session, {
            "case_id": instance_id, "expected_version": expected_version, "new_state": state, "new_status": status,
            "new_serializer_version": serializer_version, "new_version": expected_version + 1, "now": now,
        })
        if changed != 1:
            raise ConcurrencyConflict(
                f"case {instance_id} was changed by someone else (expected version {expected_version}); "
                "reload it and try again"
            )
        return expected_version + 1

    def move_to_version(self, instance_id: int, diagram_hash: str) -> None:
        """Point a case at another version of its diagram (a repair; the caller saves its state too)."""
        self.session.execute(
            update(_ProcessInstance_T).where(_ProcessInstance_C.id == instance_id).values(diagram_hash=diagram_hash)
        )

    def ids_on_version(self, process_id: str, version_prefix: str, status: str = "running") -> list[int]:
        """Ids of the cases of a process on the diagram versions whose hash starts with ``version_prefix``."""
        rows = self.session.execute(
            select(_ProcessInstance_C.id).where(
                _ProcessInstance_C.process_id == process_id, _ProcessInstance_C.status == status,
                _ProcessInstance_C.diagram_hash.startswith(version_prefix, autoescape=True),
            ).order_by(_ProcessInstance_C.id)
        )
        return [int(row[0]) for row in rows]

    def count(self, status: str | None = None) -> int:
        """How many cases exist (optionally in one status)."""
        query = select(func.count()).select_from(_ProcessInstance_T)
        if status:
            query = query.where(_ProcessInstance_C.status == status)
        return int(self.session.execute(query).scalar_one())


_TASK_COLUMNS = (
    _OpenTaskRow_C.task_id,
    _OpenTaskRow_C.instance_id,
    _OpenTaskRow_C.process_id,
    _OpenTaskRow_C.business_key,
    _OpenTaskRow_C.element_id,
    _OpenTaskRow_C.title,
    _OpenTaskRow_C.lane,
    _OpenTaskRow_C.due_at,
    _OpenTaskRow_C.assignee,
    _OpenTaskRow_C.created_at,
    _OpenTaskRow_C.organisation_id,
)


_TASK_NAMES = tuple(column.name for column in _TASK_COLUMNS)
# An open task and its case in one statement; FOR UPDATE (PostgreSQL) locks the rows in the order
# of the FROM list: the case first, then the task — the order every use case keeps.
_TASK_AND_CASE = (
    select(*_INSTANCE_COLUMNS, *_TASK_COLUMNS)
    .select_from(_ProcessInstance_T.join(_OpenTaskRow_T, _OpenTaskRow_C.instance_id == _ProcessInstance_C.id))
    .where(_OpenTaskRow_C.task_id == bindparam("task_id"))
)
_TASK_AND_CASE_LOCKED = Prepared(_TASK_AND_CASE.with_for_update())
_TASK_AND_CASE_READ = Prepared(_TASK_AND_CASE)
_TASK = select(*_TASK_COLUMNS).where(_OpenTaskRow_C.task_id == bindparam("task_id"))
_TASK_READ = Prepared(_TASK)
_TASK_LOCKED = Prepared(_TASK.with_for_update())
_INSERT_TASKS = Prepared(insert(_OpenTaskRow_T), column_keys=[column.name for column in _TASK_COLUMNS])
_DELETE_TASK = Prepared(delete(_OpenTaskRow_T).where(_OpenTaskRow_C.task_id == bindparam("old_task_id")))
# A task closed and another opened by the same step: the row is reused (one UPDATE, not DELETE + INSERT).
_MOVE = update(_OpenTaskRow_T).where(_OpenTaskRow_C.task_id == bindparam("old_task_id")).values(
    task_id=bindparam("new_task_id"), element_id=bindparam("new_element_id"), title=bindparam("new_title"),
    lane=bindparam("new_lane"), organisation_id=bindparam("new_organisation_id"), assignee=None,
    created_at=bindparam("now"))
# The due date is set only when it changes: SQLite rewrites the entry of every index on a column
# the UPDATE sets, changed or not, and most steps move a task without a deadline to another.
_MOVE_TASK_SAME_DUE = Prepared(_MOVE)
_MOVE_TASK = Prepared(_MOVE.values(due_at=bindparam("new_due_at")))

class TaskRepository(Repository):
    """The open user tasks: the task list's only table."""

    def apply_changes(
        self,
        instance_id: int,
        process_id: str,
        business_key: str,
        before: Sequence[OpenTask],
        after: Sequence[OpenTask],
        now: datetime,
        organisation_of: Callable[[str | None], int | None] = lambda lane: None,
    ) -> None:
        """Bring the table from ``before`` to ``after`` for this case, touching only what changed.

        Tasks still open keep their row (and so their assignee); only a changed due date is rewritten, or the
        title and lane when the case was moved to another version of its diagram.
        """
        was = {task.task_id: task for task in before}
        wanted = {task.task_id: task for task in after}
        gone = [key for key in was if key not in wanted]
        opened = [task for key, task in wanted.items() if key not in was]
        connection = self.session
        moved = min(len(gone), len(opened))
        if moved:  # a task closed and the next one opened: the row is reused in place
            for old, t in zip(gone, opened, strict=False):
                move = _MOVE_TASK_SAME_DUE if t.due_at == was[old].due_at else _MOVE_TASK
                move.execute(connection, {
                    "old_task_id": old, "new_task_id": t.task_id, "new_element_id": t.element_id,
                    "new_title": t.title[:300], "new_lane": t.lane, "new_organisation_id": organisation_of(t.lane),
                    "new_due_at": t.due_at, "now": now})
        if len(gone) > moved:
            _DELETE_TASK.execute_many(connection, [{"old_task_id": old} for old in gone[moved:]])
        if len(opened) > moved:
            _INSERT_TASKS.execute_many(connection, [
                {
                    "task_id": t.task_id,
                    "instance_id": instance_id,
                    "process_id": process_id,
                    "business_key": business_key,
                    "element_id": t.element_id,
                    "title": t.title[:300],
                    "lane": t.lane,
                    "organisation_id": organisation_of(t.lane),
                    "due_at": t.due_at,
                    "assignee": None,
                    "created_at": now,
                }
                for t in opened[moved:]
            ])
        for key in was.keys() & wanted.keys():
            old_task, new_task = was[key], wanted[key]
            if old_task.due_at != new_task.due_at:
                self.session.execute(
                    update(_OpenTaskRow_T).where(_OpenTaskRow_C.task_id == key).values(due_at=new_task.due_at)
                )
            if (old_task.title, old_task.lane) != (new_task.title, new_task.lane):  # moved to another version
                self.session.execute(
                    update(_OpenTaskRow_T).where(_OpenTaskRow_C.task_id == key).values(
                        title=new_task.title[:300], lane=new_task.lane, organisation_id=organisation_of(new_task.lane))
                )

    def with_case(self, task_id: str, lock: bool = False) -> tuple[TaskSummary, StoredInstance] | None:
        """An open task and its case in one statement, or None if the task is not open.

        ``lock`` holds both rows until the transaction ends, the case's first (the order of
        :meth:`get` after ``InstanceRepository.get(lock=True)``), so the task read is the one a
        racing claim, release or completion left.
        """
        row = (_TASK_AND_CASE_LOCKED if lock else _TASK_AND_CASE_READ).first(self.session,
                                                                            {"task_id": task_id})
        if row is None:
            return None
        split = len(_INSTANCE_NAMES)
        return TaskSummary(*row[split:]), StoredInstance(*row[:split])  # columns in the order of their fields

    def get(self, task_id: str, lock: bool = False) -> TaskSummary | None:
        """One open task, or None if it is not open (or never existed); ``lock`` holds its row.

        Lock order: a use case locks the task's case first (``InstanceRepository.get(lock=True)``),
        then the task, so claims, releases and completions queue instead of deadlocking.
        """
        row = (_TASK_LOCKED if lock else _TASK_READ).first(self.session, {"task_id": task_id})
        return TaskSummary(*row) if row else None

    def for_instance(self, instance_id: int) -> list[TaskSummary]:
        """The open tasks of one case."""
        rows = self.session.execute(
            select(*_TASK_COLUMNS).where(_OpenTaskRow_C.instance_id == instance_id).order_by(_OpenTaskRow_C.created_at)
        )
        return [TaskSummary(**row._mapping) for row in rows]

    def _filtered(
        self,
        query: Any,
        scope: TaskScope | None,
        lane: str | None,
        assignee: str | None,
        process_id: str | None,
        overdue_at: datetime | None,
        element_id: str | None = None,
    ) -> Any:
        if scope is not None:  # need to know: only the lanes a person acts in, in their organisations
            allowed = [
                and_(_OpenTaskRow_C.organisation_id == org, _OpenTaskRow_C.lane.in_(sorted(lanes)))
                for org, lanes in scope if lanes
            ]
            query = query.where(or_(*allowed) if allowed else _OpenTaskRow_C.task_id.is_(None))
        if element_id is not None:
            query = query.where(_OpenTaskRow_C.element_id == element_id)
        if lane is not None:
            query = query.where(_OpenTaskRow_C.lane == lane)
        if assignee is not None:
            query = query.where(_OpenTaskRow_C.assignee == assignee)
        if process_id is not None:
            query = query.where(_OpenTaskRow_C.process_id == process_id)
        if overdue_at is not None:
            query = query.where(_OpenTaskRow_C.due_at < overdue_at)
        return query

    def _per_lane(
        self, columns: Sequence[Any], scope: TaskScope, lane: str | None, assignee: str | None,
        process_id: str | None, overdue_at: datetime | None, element_id: str | None, first: int,
    ) -> Any:
        """The first ``first`` tasks of each (organisation, lane) a person acts in, as one subquery.

        Each part reads ix_open_tasks_org_lane_created in order and stops early, so a person with
        several roles costs a few short index reads instead of a sort of all their organisation's tasks.
        """
        pairs = [(org, one) for org, lanes in scope for one in sorted(lanes) if lane in (None, one)]
        parts = []
        for org, one in pairs:
            part = self._filtered(select(*columns), None, one, assignee, process_id, overdue_at, element_id)
            part = part.where(_OpenTaskRow_C.organisation_id == org)
            part = part.order_by(_OpenTaskRow_C.created_at, _OpenTaskRow_C.task_id).limit(first).subquery()
            parts.append(select(*part.c))
        if not parts:
            return None
        return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()

    def page(
        self,
        *,
        scope: TaskScope | None = None,
        lane: str | None = None,
        assignee: str | None = None,
        process_id: str | None = None,
        overdue_at: datetime | None = None,
        element_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[TaskSummary]:
        """Open tasks, oldest first, filtered by role, assignee, process, stage or overdue."""
        if scope is not None:
            merged = self._per_lane(_TASK_COLUMNS, scope, lane, assignee, process_id, overdue_at, element_id,
                                    offset + limit)
            if merged is None:
                return []
            query = select(*merged.c).order_by(merged.c.created_at, merged.c.task_id).limit(limit).offset(offset)
            return [TaskSummary(**row._mapping) for row in self.session.execute(query)]
        query = self._filtered(select(*_TASK_COLUMNS), None, lane, assignee, process_id, overdue_at, element_id)
        query = query.order_by(_OpenTaskRow_C.created_at, _OpenTaskRow_C.task_id).limit(limit).offset(offset)
        return [TaskSummary(**row._mapping) for row in self.session.execute(query)]

    def count(
        self,
        *,
        scope: TaskScope | None = None,
        lane: str | None = None,
        assignee: str | None = None,
        process_id: str | None = None,
        overdue_at: datetime | None = None,
        element_id: str | None = None,
        cap: int | None = None,
    ) -> int:
        """How many open tasks match the same filters as :meth:`page` (at most ``cap``, if given)."""
        if scope is not None and cap is not None:
            merged = self._per_lane((_OpenTaskRow_C.task_id, _OpenTaskRow_C.created_at), scope, lane, assignee,
                                    process_id, overdue_at, element_id, cap)
            if merged is None:
                return 0
            return min(cap, int(self.session.execute(select(func.count()).select_from(merged)).scalar_one()))
        matching = self._filtered(select(_OpenTaskRow_C.task_id), scope, lane, assignee, process_id, overdue_at,
                                  element_id)
        if cap is not None:
            matching = matching.limit(cap)
        query = select(func.count()).select_from(matching.subquery())
        return int(self.session.execute(query).scalar_one())

    def claim(self, task_id: str, user: str) -> bool:
        """Assign an unassigned task (or one already this user's) to ``user``; False if taken."""
        result = self.session.execute(
            update(_OpenTaskRow_T)
            .where(_OpenTaskRow_C.task_id == task_id)
            .where((_OpenTaskRow_C.assignee.is_(None)) | (_OpenTaskRow_C.assignee == user))
            .values(assignee=user)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, task_id: str, user: str) -> bool:
        """Give back a task ``user`` holds; False if they do not hold it."""
        result = self.session.execute(
            update(_OpenTaskRow_T)
            .where(_OpenTaskRow_C.task_id == task_id, _OpenTaskRow_C.assignee == user)
            .values(assignee=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class TimerRepository(Repository):
    """Pending timers; the sweep touches only rows whose ``fire_at`` has passed."""

    def replace_for_instance(self, instance_id: int, timers: Sequence[PendingTimer]) -> None:
        """Make the table show exactly ``timers`` for this case."""
        self.session.execute(delete(_PendingTimerRow_T).where(_PendingTimerRow_C.instance_id == instance_id))
        if timers:
            self.session.execute(
                insert(_PendingTimerRow_T),
                [
                    {
                        "instance_id": instance_id,
                        "element_id": t.element_id,
                        "due_at": t.due_at,
                        "fire_at": t.due_at,
                        "attempts": 0,
                        "last_error": None,
                    }
                    for t in timers
                ],
            )

    def claim_due_instance(self, now: datetime, window: int = 50) -> int | None:
        """Lock one case with a timer due by ``now``; cases another worker holds are skipped.

        The case row, not the timer rows, is what gets locked: firing rewrites all of a case's
        timers, so two workers must never hold timers of the same case at once.
        """
        due = (
            select(_PendingTimerRow_C.instance_id)
            .where(_PendingTimerRow_C.fire_at <= now)
            .order_by(_PendingTimerRow_C.fire_at)
            .limit(window)
        )
        query = select(_ProcessInstance_C.id).where(_ProcessInstance_C.id.in_(due)).limit(1)
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True)
        return self.session.execute(query).scalar_one_or_none()

    def due_for_instance(self, instance_id: int, now: datetime) -> list[int]:
        """Ids of this case's timers due by ``now`` (re-checked under the case's lock)."""
        return list(
            self.session.execute(
                select(_PendingTimerRow_C.id).where(
                    _PendingTimerRow_C.instance_id == instance_id, _PendingTimerRow_C.fire_at <= now
                )
            ).scalars()
        )

    def postpone(self, timer_ids: Sequence[int], fire_at: datetime, error: str) -> None:
        """Retry timers whose case failed to run, later, keeping the error for operators."""
        self.session.execute(
            update(_PendingTimerRow_T)
            .where(_PendingTimerRow_C.id.in_(timer_ids))
            .values(fire_at=fire_at, attempts=_PendingTimerRow_C.attempts + 1, last_error=error[:2000])
        )

    def for_instance(self, instance_id: int) -> list[PendingTimer]:
        """The timers one case waits on."""
        rows = self.session.execute(
            select(_PendingTimerRow_C.element_id, _PendingTimerRow_C.due_at)
            .where(_PendingTimerRow_C.instance_id == instance_id)
            .order_by(_PendingTimerRow_C.due_at)
        )
        return [PendingTimer(element_id=r[0], due_at=r[1]) for r in rows]

    def count(self) -> int:
        """How many timers are pending in all."""
        return int(self.session.execute(select(func.count()).select_from(_PendingTimerRow_T)).scalar_one())


class AwaitedMessageRepository(Repository):
    """Which case waits for which message, by business key."""

    def replace_for_instance(self, instance_id: int, business_key: str, names: Iterable[str]) -> None:
        """Make the table show exactly ``names`` for this case."""
        self.session.execute(delete(_AwaitedMessageRow_T).where(_AwaitedMessageRow_C.instance_id == instance_id))
        rows = [{"instance_id": instance_id, "message_name": n, "business_key": business_key} for n in set(names)]
        if rows:
            self.session.execute(insert(_AwaitedMessageRow_T), rows)

    def instance_waiting(self, name: str, business_key: str) -> int | None:
        """The case whose catch event waits for this message and key, if any."""
        return self.session.execute(
            select(_AwaitedMessageRow_C.instance_id)
            .where(_AwaitedMessageRow_C.message_name == name, _AwaitedMessageRow_C.business_key == business_key)
            .order_by(_AwaitedMessageRow_C.instance_id)
            .limit(1)
        ).scalar_one_or_none()


@dataclass(frozen=True)
class InboxEntry:
    """A stored incoming message."""

    id: int
    message_name: str
    business_key: str
    payload: dict[str, Any]


class InboxRepository(Repository):
    """Messages that arrived before their case was ready for them."""

    def add(
        self, name: str, business_key: str, payload: dict[str, Any], idempotency_key: str | None, now: datetime
    ) -> int:
        """Keep a message until a case waits for it; DuplicateMessage if its idempotency key was seen."""
        statement = (
            insert(_InboxMessage_T)
            .values(
                message_name=name,
                business_key=business_key,
                payload=payload,
                idempotency_key=idempotency_key,
                received_at=now,
                delivered_at=None,
                instance_id=None,
            )
            .returning(_InboxMessage_C.id)
        )
        try:
            result = self.session.execute(statement)
        except IntegrityError:  # the same key raced in from a parallel request: that one wins
            raise DuplicateMessage(f"message '{name}' with key '{idempotency_key}' was received already") from None
        return int(result.scalar_one())

    def seen(self, idempotency_key: str) -> bool:
        """Whether a message with this idempotency key has already been received."""
        return (
            self.session.execute(
                select(_InboxMessage_C.id).where(_InboxMessage_C.idempotency_key == idempotency_key)
            ).first()
            is not None
        )

    def pending_for(self, names: Iterable[str], business_key: str,
                    received_before: datetime | None = None) -> list[InboxEntry]:
        """Undelivered messages for these names and key, oldest first (only those received before an instant)."""
        names = list(names)
        if not names:
            return []
        query = (
            select(
                _InboxMessage_C.id, _InboxMessage_C.message_name, _InboxMessage_C.business_key, _InboxMessage_C.payload
            )
            .where(
                _InboxMessage_C.message_name.in_(names),
                _InboxMessage_C.business_key == business_key,
                _InboxMessage_C.delivered_at.is_(None),
            )
            .order_by(_InboxMessage_C.id)
        )
        if received_before is not None:
            query = query.where(_InboxMessage_C.received_at < received_before)
        return [InboxEntry(**row._mapping) for row in self.session.execute(query)]

    def delivered(self, inbox_id: int) -> bool:
        """Whether a stored message was handed to a case (or handled) already."""
        return self.session.execute(
            select(_InboxMessage_C.delivered_at).where(_InboxMessage_C.id == inbox_id)
        ).scalar_one_or_none() is not None

    def key_used(self, prefix: str) -> str | None:
        """A stored idempotency key that begins with ``prefix`` (the same client key, perhaps another body)."""
        return self.session.execute(
            select(_InboxMessage_C.idempotency_key).where(_InboxMessage_C.idempotency_key.startswith(prefix,
                                                                                                 autoescape=True))
            .limit(1)
        ).scalar_one_or_none()

    def deliverable(self, limit: int, now: datetime | None = None) -> list[tuple[int, int]]:
        """(inbox id, case id) pairs where a case now waits for a kept message.

        With ``now``, cases parked as an incident whose next try is later than ``now`` are left out.
        """
        query = (
            select(_InboxMessage_C.id, _AwaitedMessageRow_C.instance_id)
            .join(
                AwaitedMessageRow,
                and_(
                    _AwaitedMessageRow_C.message_name == _InboxMessage_C.message_name,
                    _AwaitedMessageRow_C.business_key == _InboxMessage_C.business_key,
                ),
            )
            .where(_InboxMessage_C.delivered_at.is_(None))
        )
        if now is not None:
            parked = select(_Incident_C.instance_id).where(
                _Incident_C.instance_id == _AwaitedMessageRow_C.instance_id, _Incident_C.resolved_at.is_(None),
                _Incident_C.next_try_at > now)
            query = query.where(~parked.exists())
        rows = self.session.execute(
            query
            .order_by(_InboxMessage_C.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    def mark_delivered(self, inbox_id: int, instance_id: int, now: datetime) -> None:
        """Record that a kept message reached its case."""
        self.session.execute(
            update(_InboxMessage_T)
            .where(_InboxMessage_C.id == inbox_id)
            .values(delivered_at=now, instance_id=instance_id)
        )

    def count_pending(self) -> int:
        """How many messages still wait for their case."""
        return int(
            self.session.execute(
                select(func.count()).select_from(_InboxMessage_T).where(_InboxMessage_C.delivered_at.is_(None))
            ).scalar_one()
        )


_OUTBOX_COLUMNS = (
    _OutboxMessage_C.id,
    _OutboxMessage_C.channel,
    _OutboxMessage_C.message_name,
    _OutboxMessage_C.idempotency_key,
    _OutboxMessage_C.instance_id,
    _OutboxMessage_C.business_key,
    _OutboxMessage_C.payload,
    _OutboxMessage_C.attempts,
    _OutboxMessage_C.delivered_at,
    _OutboxMessage_C.delivered_to,
    _OutboxMessage_C.last_error,
    _OutboxMessage_C.created_at,
)


# A step's outbox rows and its event-log rows, each in one statement however many there are.
_INSERT_OUTBOX = PreparedInsert(_OutboxMessage_T, [
    "channel", "message_name", "idempotency_key", "instance_id", "business_key", "payload", "created_at", "attempts",
    "next_attempt_at", "delivered_at", "delivered_to", "last_error"])
_INSERT_EVENTS = PreparedInsert(_EventLogEntry_T, [
    "at", "instance_id", "business_key", "actor", "action", "element_id", "paragraph", "details"])


class OutboxRepository(Repository):
    """Messages for outside systems, written with the state that caused them."""

    def add_many(self, messages: Sequence[dict[str, Any]], now: datetime) -> None:
        """Queue several messages in one statement (keys as for :meth:`add`)."""
        if messages:
            _INSERT_OUTBOX.execute(
                self.session,
                [
                    {**m, "created_at": now, "attempts": 0, "next_attempt_at": now, "delivered_at": None,
                     "delivered_to": None, "last_error": None}
                    for m in messages
                ],
            )

    def add(
        self,
        *,
        channel: str,
        name: str,
        idempotency_key: str,
        instance_id: int | None,
        business_key: str | None,
        payload: dict[str, Any],
        now: datetime,
    ) -> None:
        """Queue one message for delivery."""
        self.session.execute(
            insert(_OutboxMessage_T).values(
                channel=channel,
                message_name=name,
                idempotency_key=idempotency_key,
                instance_id=instance_id,
                business_key=business_key,
                payload=payload,
                created_at=now,
                attempts=0,
                next_attempt_at=now,
                delivered_at=None,
                delivered_to=None,
                last_error=None,
            )
        )

    def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[OutboxItem]:
        """Reserve undelivered, due messages until ``lease_until``; rows another worker holds are skipped."""
        query = (
            select(*_OUTBOX_COLUMNS)
            .where(_OutboxMessage_C.delivered_at.is_(None), _OutboxMessage_C.next_attempt_at <= now)
            .order_by(_OutboxMessage_C.next_attempt_at, _OutboxMessage_C.id)
            .limit(limit)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True)
        items = [OutboxItem(**row._mapping) for row in self.session.execute(query)]
        if items:
            self.session.execute(
                update(_OutboxMessage_T)
                .where(_OutboxMessage_C.id.in_([item.id for item in items]))
                .values(next_attempt_at=lease_until)
            )
        return items

    def mark_delivered(self, outbox_id: int, delivered_to: str, now: datetime) -> None:
        """Record a successful delivery."""
        self.session.execute(
            update(_OutboxMessage_T)
            .where(_OutboxMessage_C.id == outbox_id)
            .values(
                delivered_at=now,
                delivered_to=delivered_to[:500],
                attempts=_OutboxMessage_C.attempts + 1,
                last_error=None,
            )
        )

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime) -> None:
        """Record a failed attempt and when to try again."""
        self.session.execute(
            update(_OutboxMessage_T)
            .where(_OutboxMessage_C.id == outbox_id)
            .values(
                attempts=_OutboxMessage_C.attempts + 1,
                last_error=error[:2000],
                next_attempt_at=retry_at,
            )
        )

    def listing(
        self, *, instance_id: int | None = None, pending_only: bool = False, limit: int = 100
    ) -> list[OutboxItem]:
        """Outbox messages, newest first, optionally of one case or only the undelivered."""
        query = select(*_OUTBOX_COLUMNS)
        if instance_id is not None:
            query = query.where(_OutboxMessage_C.instance_id == instance_id)
        if pending_only:
            query = query.where(_OutboxMessage_C.delivered_at.is_(None))
        rows = self.session.execute(query.order_by(_OutboxMessage_C.id.desc()).limit(limit))
        return [OutboxItem(**row._mapping) for row in rows]

    def by_key(self, idempotency_key: str) -> OutboxItem | None:
        """The message sent with this idempotency key (what an outside system names it by), if any."""
        row = self.session.execute(
            select(*_OUTBOX_COLUMNS).where(_OutboxMessage_C.idempotency_key == idempotency_key)
        ).first()
        return OutboxItem(**row._mapping) if row is not None else None

    def newest_id(self, instance_id: int, message_name: str) -> int | None:
        """The id of the case's latest message of this name (e.g. its latest offer SMS)."""
        return self.session.execute(
            select(func.max(_OutboxMessage_C.id)).where(
                _OutboxMessage_C.instance_id == instance_id, _OutboxMessage_C.message_name == message_name)
        ).scalar_one_or_none()


class EventLogRepository(Repository):
    """The append-only event log (the database refuses updates and deletes too)."""

    def append(self, records: Iterable[EventRecord]) -> None:
        """Add entries; never changes existing ones."""
        rows = [
            {
                "at": r.at,
                "instance_id": r.instance_id,
                "business_key": r.business_key,
                "actor": r.actor,
                "action": r.action,
                "element_id": r.element_id,
                "paragraph": r.paragraph,
                "details": r.details,
            }
            for r in records
        ]
        if rows:
            _INSERT_EVENTS.execute(self.session, rows)

    def for_instance(self, instance_id: int) -> list[EventRecord]:
        """A case's history, oldest first."""
        rows = self.session.execute(
            select(
                _EventLogEntry_C.at,
                _EventLogEntry_C.actor,
                _EventLogEntry_C.action,
                _EventLogEntry_C.instance_id,
                _EventLogEntry_C.business_key,
                _EventLogEntry_C.element_id,
                _EventLogEntry_C.paragraph,
                _EventLogEntry_C.details,
            )
            .where(_EventLogEntry_C.instance_id == instance_id)
            .order_by(_EventLogEntry_C.id)
        )
        return [EventRecord(**row._mapping) for row in rows]


# A signed-in person is read at every request: these are built once.
_MEMBER_SELECT = select(
    _StaffUser_C.id, _StaffUser_C.login, _StaffUser_C.full_name, _StaffUser_C.language, _StaffUser_C.national_admin,
).where(_StaffUser_C.id == bindparam("member_id"))
_MEMBER = Prepared(_MEMBER_SELECT)
_ACTIVE_MEMBER = Prepared(_MEMBER_SELECT.where(_StaffUser_C.active.is_(True)))
_MEMBERSHIPS = Prepared(
    select(_Membership_C.organisation_id, _Membership_C.roles, _Membership_C.position_kk, _Membership_C.position_ru)
    .where(_Membership_C.staff_id == bindparam("member_id")).order_by(_Membership_C.organisation_id)
)


class StaffRepository(Repository):
    """Staff accounts: looked up by login, never listed with their password hashes."""

    def by_login(self, login: str) -> tuple[Actor, str, int, datetime | None, bool] | None:
        """(person, password hash, failed sign-ins, locked until, active) for a login."""
        row = self.session.execute(
            select(
                _StaffUser_C.id,
                _StaffUser_C.password_hash,
                _StaffUser_C.failed_logins,
                _StaffUser_C.locked_until,
                _StaffUser_C.active,
            ).where(_StaffUser_C.login == login)
        ).first()
        if row is None:
            return None
        member = self._actor(row.id, active_only=False)
        assert member is not None
        return member, row.password_hash, row.failed_logins, row.locked_until, row.active

    def get(self, member_id: int) -> Actor | None:
        """An active member of staff by id, with their memberships (for the signed-in session)."""
        return self._actor(member_id, active_only=True)

    def _actor(self, member_id: int, active_only: bool) -> Actor | None:
        connection = self.session
        row = (_ACTIVE_MEMBER if active_only else _MEMBER).first(connection, {"member_id": member_id})
        if row is None:
            return None
        id_, login, full_name, language, national_admin = row
        memberships = _MEMBERSHIPS.all(connection, {"member_id": member_id})
        return Actor(
            login=login, full_name=full_name, id=id_, language=language, national_admin=bool(national_admin),
            memberships=tuple(
                Membership(organisation_id, frozenset(filter(None, roles.split(","))), position_kk, position_ru)
                for organisation_id, roles, position_kk, position_ru in memberships
            ),
        )

    def add(
        self, *, login: str, full_name: str, password_hash: str, language: str, now: datetime,
        national_admin: bool = False,
    ) -> int:
        """Create an account (without memberships) and return its id."""
        result = self.session.execute(
            insert(_StaffUser_T)
            .values(
                login=login,
                full_name=full_name,
                password_hash=password_hash,
                language=language,
                national_admin=national_admin,
                active=True,
                failed_logins=0,
                locked_until=None,
                created_at=now,
            )
            .returning(_StaffUser_C.id)
        )
        return int(result.scalar_one())

    def reserve_attempt(self, member_id: int, limit: int, now: datetime, lock_until: datetime) -> bool:
        """Count one sign-in attempt before its password is checked; False when the account is locked.

        One UPDATE, so parallel attempts cannot pass the limit; the attempt that reaches it locks the
        account at once (a success clears the lock), so a crash between check and outcome can never
        leave an account locked for good. An expired lock starts the count anew.
        """
        expired = and_(_StaffUser_C.locked_until.is_not(None), _StaffUser_C.locked_until <= now)
        reaches = _StaffUser_C.failed_logins + 1 >= limit
        result = self.session.execute(
            update(_StaffUser_T)
            .where(_StaffUser_C.id == member_id)
            .where(or_(and_(_StaffUser_C.failed_logins < limit, _StaffUser_C.locked_until.is_(None)), expired))
            .values(
                failed_logins=case((expired, 1), else_=_StaffUser_C.failed_logins + 1),
                locked_until=case((and_(~expired, reaches), literal(lock_until, _StaffUser_C.locked_until.type)),
                                  else_=None),
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def record_success(self, member_id: int, password_hash: str | None = None) -> None:
        """Clear the failure count; store a re-hashed password if the hashing parameters changed."""
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        if password_hash:
            values["password_hash"] = password_hash
        self.session.execute(update(_StaffUser_T).where(_StaffUser_C.id == member_id).values(**values))

    def set_language(self, member_id: int, language: str) -> None:
        """Remember the interface language a member of staff chose."""
        self.session.execute(update(_StaffUser_T).where(_StaffUser_C.id == member_id).values(language=language))


class ApiClientRepository(Repository):
    """Outside systems and the hashes of their tokens."""

    def by_token_hash(self, token_hash: str) -> ApiClientInfo | None:
        """The active client holding the token with this hash."""
        row = self.session.execute(
            select(_ApiClient_C.id, _ApiClient_C.name, _ApiClient_C.scopes, _ApiClient_C.organisation_id).where(
                _ApiClient_C.token_hash == token_hash, _ApiClient_C.active.is_(True)
            )
        ).first()
        if row is None:
            return None
        return ApiClientInfo(row.id, row.name, frozenset(filter(None, row.scopes.split(","))), row.organisation_id)

    def add(self, *, name: str, token_hash: str, scopes: Iterable[str], now: datetime,
            organisation_id: int | None = None) -> int:
        """Register a client; only the token's hash is kept."""
        result = self.session.execute(
            insert(_ApiClient_T)
            .values(name=name, token_hash=token_hash, scopes=",".join(sorted(scopes)), active=True, created_at=now,
                    organisation_id=organisation_id)
            .returning(_ApiClient_C.id)
        )
        return int(result.scalar_one())

    def exists(self, name: str) -> bool:
        """Whether a client with this name is registered."""
        return self.session.execute(select(_ApiClient_C.id).where(_ApiClient_C.name == name)).first() is not None


@dataclass(frozen=True)
class AttachmentInfo:
    """An attachment without its bytes."""

    id: int
    business_key: str
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


_Attachment_T: Table = AttachmentRow.__table__  # type: ignore[assignment]
_Attachment_C = _Attachment_T.c
_ATTACHMENT_COLUMNS = (
    _Attachment_C.id, _Attachment_C.business_key, _Attachment_C.kind, _Attachment_C.filename,
    _Attachment_C.content_type, _Attachment_C.size, _Attachment_C.sha256, _Attachment_C.uploaded_by,
    _Attachment_C.uploaded_at,
)


class AttachmentRepository(Repository):
    """Scanned documents, kept by the application (business) number."""

    def add(self, *, business_key: str, kind: str, filename: str, content_type: str, content: bytes,
            sha256: str, uploaded_by: str, now: datetime) -> int:
        """Store one file and return its id."""
        result = self.session.execute(
            insert(_Attachment_T).values(
                business_key=business_key, kind=kind, filename=filename[:255], content_type=content_type,
                size=len(content), sha256=sha256, content=content, uploaded_by=uploaded_by, uploaded_at=now,
            ).returning(_Attachment_C.id)
        )
        return int(result.scalar_one())

    def for_key(self, business_key: str) -> list[AttachmentInfo]:
        """The attachments of a case, oldest first, without their bytes."""
        rows = self.session.execute(
            select(*_ATTACHMENT_COLUMNS).where(_Attachment_C.business_key == business_key).order_by(_Attachment_C.id)
        )
        return [AttachmentInfo(**row._mapping) for row in rows]

    def content(self, attachment_id: int) -> tuple[AttachmentInfo, bytes] | None:
        """One attachment with its bytes."""
        row = self.session.execute(
            select(*_ATTACHMENT_COLUMNS, _Attachment_C.content).where(_Attachment_C.id == attachment_id)
        ).first()
        if row is None:
            return None
        values = dict(row._mapping)
        return AttachmentInfo(**{k: v for k, v in values.items() if k != "content"}), bytes(values["content"])
