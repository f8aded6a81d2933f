"""Repositories: narrow SQL on the hot path, returning domain values, never ORM object graphs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from service.domain.errors import ConcurrencyConflict
from service.domain.model import EventRecord, OpenTask, OutboxItem, PendingTimer, TaskSummary
from service.domain.staff import ApiClientInfo, StaffMember

from .models import (
    ApiClient,
    AwaitedMessageRow,
    DiagramVersion,
    EventLogEntry,
    InboxMessage,
    OpenTaskRow,
    OutboxMessage,
    PendingTimerRow,
    ProcessInstance,
    StaffUser,
)


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


class Repository:
    """Base: every repository works inside its unit of work's session."""

    def __init__(self, session: Session, skip_locked: bool) -> None:
        self.session = session
        self.skip_locked = skip_locked


class DiagramRepository(Repository):
    """Diagram versions, stored once per content hash."""

    def ensure(self, content_hash: str, process_id: str, file: str, source: bytes, now: datetime) -> bool:
        """Store this version unless it is already there; True if it was new."""
        found = self.session.execute(
            select(DiagramVersion.content_hash).where(DiagramVersion.content_hash == content_hash)
        ).first()
        if found:
            return False
        self.session.execute(
            insert(DiagramVersion).values(
                content_hash=content_hash, process_id=process_id, file=file, source=source, stored_at=now
            )
        )
        return True

    def source(self, content_hash: str) -> tuple[bytes, str] | None:
        """The stored bytes and file name of a version."""
        row = self.session.execute(
            select(DiagramVersion.source, DiagramVersion.file).where(DiagramVersion.content_hash == content_hash)
        ).first()
        return (row[0], row[1]) if row else None


_INSTANCE_COLUMNS = (
    ProcessInstance.id, ProcessInstance.process_id, ProcessInstance.business_key,
    ProcessInstance.diagram_hash, ProcessInstance.status, ProcessInstance.state,
    ProcessInstance.serializer_version, ProcessInstance.version,
)


class InstanceRepository(Repository):
    """Case state rows, with a version number for optimistic locking."""

    def add(
        self, *, process_id: str, business_key: str, diagram_hash: str, state: str,
        serializer_version: str, status: str, now: datetime,
    ) -> int:
        """Insert a new case at version 0 (its first save makes it 1) and return its id."""
        result = self.session.execute(
            insert(ProcessInstance).values(
                process_id=process_id, business_key=business_key, diagram_hash=diagram_hash,
                state=state, serializer_version=serializer_version, status=status,
                version=0, created_at=now, updated_at=now,
            ).returning(ProcessInstance.id)
        )
        return int(result.scalar_one())

    def get(self, instance_id: int, lock: bool = False) -> StoredInstance | None:
        """Load a case; ``lock`` holds its row until the transaction ends."""
        query = select(*_INSTANCE_COLUMNS).where(ProcessInstance.id == instance_id)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return StoredInstance(**row._mapping) if row else None

    def id_for_key(self, process_id: str, business_key: str) -> int | None:
        """The case of ``process_id`` with this business key, if any."""
        return self.session.execute(
            select(ProcessInstance.id).where(
                ProcessInstance.process_id == process_id, ProcessInstance.business_key == business_key
            )
        ).scalar_one_or_none()

    def save(
        self, instance_id: int, *, expected_version: int, state: str, status: str,
        serializer_version: str, now: datetime,
    ) -> int:
        """Write new state if nobody else did first; return the new version or raise a conflict."""
        result = self.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance_id, ProcessInstance.version == expected_version)
            .values(
                state=state, status=status, serializer_version=serializer_version,
                version=expected_version + 1, updated_at=now,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrencyConflict(
                f"case {instance_id} was changed by someone else (expected version {expected_version}); "
                "reload it and try again"
            )
        return expected_version + 1

    def count(self, status: str | None = None) -> int:
        """How many cases exist (optionally in one status)."""
        query = select(func.count()).select_from(ProcessInstance)
        if status:
            query = query.where(ProcessInstance.status == status)
        return int(self.session.execute(query).scalar_one())


_TASK_COLUMNS = (
    OpenTaskRow.task_id, OpenTaskRow.instance_id, OpenTaskRow.process_id, OpenTaskRow.business_key,
    OpenTaskRow.element_id, OpenTaskRow.title, OpenTaskRow.lane, OpenTaskRow.due_at,
    OpenTaskRow.assignee, OpenTaskRow.created_at,
)


class TaskRepository(Repository):
    """The open user tasks: the task list's only table."""

    def replace_for_instance(
        self, instance_id: int, process_id: str, business_key: str, tasks: Sequence[OpenTask], now: datetime
    ) -> frozenset[str]:
        """Make the table show exactly ``tasks`` for this case; tasks still open keep their assignee.

        Returns the element ids that were open before, so callers can tell whether the stage changed.
        """
        rows = self.session.execute(
            select(OpenTaskRow.task_id, OpenTaskRow.element_id).where(OpenTaskRow.instance_id == instance_id)
        ).all()
        existing = {row[0] for row in rows}
        wanted = {task.task_id: task for task in tasks}
        gone = existing - wanted.keys()
        if gone:
            self.session.execute(delete(OpenTaskRow).where(OpenTaskRow.task_id.in_(gone)))
        new = [
            {
                "task_id": t.task_id, "instance_id": instance_id, "process_id": process_id,
                "business_key": business_key, "element_id": t.element_id, "title": t.title[:300],
                "lane": t.lane, "due_at": t.due_at, "assignee": None, "created_at": now,
            }
            for key, t in wanted.items() if key not in existing
        ]
        if new:
            self.session.execute(insert(OpenTaskRow), new)
        for key in existing & wanted.keys():
            self.session.execute(
                update(OpenTaskRow).where(OpenTaskRow.task_id == key).values(due_at=wanted[key].due_at)
            )
        return frozenset(row[1] for row in rows)

    def get(self, task_id: str) -> TaskSummary | None:
        """One open task, or None if it is not open (or never existed)."""
        row = self.session.execute(select(*_TASK_COLUMNS).where(OpenTaskRow.task_id == task_id)).first()
        return TaskSummary(**row._mapping) if row else None

    def for_instance(self, instance_id: int) -> list[TaskSummary]:
        """The open tasks of one case."""
        rows = self.session.execute(
            select(*_TASK_COLUMNS).where(OpenTaskRow.instance_id == instance_id).order_by(OpenTaskRow.created_at)
        )
        return [TaskSummary(**row._mapping) for row in rows]

    def _filtered(self, query: Any, lane: str | None, assignee: str | None, process_id: str | None,
                  overdue_at: datetime | None, element_id: str | None = None) -> Any:
        if element_id is not None:
            query = query.where(OpenTaskRow.element_id == element_id)
        if lane is not None:
            query = query.where(OpenTaskRow.lane == lane)
        if assignee is not None:
            query = query.where(OpenTaskRow.assignee == assignee)
        if process_id is not None:
            query = query.where(OpenTaskRow.process_id == process_id)
        if overdue_at is not None:
            query = query.where(OpenTaskRow.due_at < overdue_at)
        return query

    def page(
        self, *, lane: str | None = None, assignee: str | None = None, process_id: str | None = None,
        overdue_at: datetime | None = None, element_id: str | None = None, limit: int = 50, offset: int = 0,
    ) -> list[TaskSummary]:
        """Open tasks, oldest first, filtered by role, assignee, process, stage or overdue."""
        query = self._filtered(select(*_TASK_COLUMNS), lane, assignee, process_id, overdue_at, element_id)
        query = query.order_by(OpenTaskRow.created_at, OpenTaskRow.task_id).limit(limit).offset(offset)
        return [TaskSummary(**row._mapping) for row in self.session.execute(query)]

    def count(
        self, *, lane: str | None = None, assignee: str | None = None, process_id: str | None = None,
        overdue_at: datetime | None = None, element_id: str | None = None,
    ) -> int:
        """How many open tasks match the same filters as :meth:`page`."""
        query = self._filtered(select(func.count()).select_from(OpenTaskRow), lane, assignee, process_id,
                               overdue_at, element_id)
        return int(self.session.execute(query).scalar_one())

    def claim(self, task_id: str, user: str) -> bool:
        """Assign an unassigned task (or one already this user's) to ``user``; False if taken."""
        result = self.session.execute(
            update(OpenTaskRow)
            .where(OpenTaskRow.task_id == task_id)
            .where((OpenTaskRow.assignee.is_(None)) | (OpenTaskRow.assignee == user))
            .values(assignee=user)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, task_id: str, user: str) -> bool:
        """Give back a task ``user`` holds; False if they do not hold it."""
        result = self.session.execute(
            update(OpenTaskRow)
            .where(OpenTaskRow.task_id == task_id, OpenTaskRow.assignee == user)
            .values(assignee=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class TimerRepository(Repository):
    """Pending timers; the sweep touches only rows whose ``fire_at`` has passed."""

    def replace_for_instance(self, instance_id: int, timers: Sequence[PendingTimer]) -> None:
        """Make the table show exactly ``timers`` for this case."""
        self.session.execute(delete(PendingTimerRow).where(PendingTimerRow.instance_id == instance_id))
        if timers:
            self.session.execute(
                insert(PendingTimerRow),
                [
                    {"instance_id": instance_id, "element_id": t.element_id, "due_at": t.due_at,
                     "fire_at": t.due_at, "attempts": 0, "last_error": None}
                    for t in timers
                ],
            )

    def claim_due_instance(self, now: datetime, window: int = 50) -> int | None:
        """Lock one case with a timer due by ``now``; cases another worker holds are skipped.

        The case row, not the timer rows, is what gets locked: firing rewrites all of a case's
        timers, so two workers must never hold timers of the same case at once.
        """
        due = (
            select(PendingTimerRow.instance_id)
            .where(PendingTimerRow.fire_at <= now)
            .order_by(PendingTimerRow.fire_at)
            .limit(window)
        )
        query = select(ProcessInstance.id).where(ProcessInstance.id.in_(due)).limit(1)
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True)
        return self.session.execute(query).scalar_one_or_none()

    def due_for_instance(self, instance_id: int, now: datetime) -> list[int]:
        """Ids of this case's timers due by ``now`` (re-checked under the case's lock)."""
        return list(self.session.execute(
            select(PendingTimerRow.id).where(PendingTimerRow.instance_id == instance_id, PendingTimerRow.fire_at <= now)
        ).scalars())

    def postpone(self, timer_ids: Sequence[int], fire_at: datetime, error: str) -> None:
        """Retry timers whose case failed to run, later, keeping the error for operators."""
        self.session.execute(
            update(PendingTimerRow)
            .where(PendingTimerRow.id.in_(timer_ids))
            .values(fire_at=fire_at, attempts=PendingTimerRow.attempts + 1, last_error=error[:2000])
        )

    def for_instance(self, instance_id: int) -> list[PendingTimer]:
        """The timers one case waits on."""
        rows = self.session.execute(
            select(PendingTimerRow.element_id, PendingTimerRow.due_at)
            .where(PendingTimerRow.instance_id == instance_id).order_by(PendingTimerRow.due_at)
        )
        return [PendingTimer(element_id=r[0], due_at=r[1]) for r in rows]

    def count(self) -> int:
        """How many timers are pending in all."""
        return int(self.session.execute(select(func.count()).select_from(PendingTimerRow)).scalar_one())


class AwaitedMessageRepository(Repository):
    """Which case waits for which message, by business key."""

    def replace_for_instance(self, instance_id: int, business_key: str, names: Iterable[str]) -> None:
        """Make the table show exactly ``names`` for this case."""
        self.session.execute(delete(AwaitedMessageRow).where(AwaitedMessageRow.instance_id == instance_id))
        rows = [{"instance_id": instance_id, "message_name": n, "business_key": business_key} for n in set(names)]
        if rows:
            self.session.execute(insert(AwaitedMessageRow), rows)

    def instance_waiting(self, name: str, business_key: str) -> int | None:
        """The case whose catch event waits for this message and key, if any."""
        return self.session.execute(
            select(AwaitedMessageRow.instance_id)
            .where(AwaitedMessageRow.message_name == name, AwaitedMessageRow.business_key == business_key)
            .order_by(AwaitedMessageRow.instance_id).limit(1)
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

    def add(self, name: str, business_key: str, payload: dict[str, Any], idempotency_key: str | None,
            now: datetime) -> int:
        """Keep a message until a case waits for it."""
        result = self.session.execute(
            insert(InboxMessage).values(
                message_name=name, business_key=business_key, payload=payload,
                idempotency_key=idempotency_key, received_at=now, delivered_at=None, instance_id=None,
            ).returning(InboxMessage.id)
        )
        return int(result.scalar_one())

    def seen(self, idempotency_key: str) -> bool:
        """Whether a message with this idempotency key has already been received."""
        return self.session.execute(
            select(InboxMessage.id).where(InboxMessage.idempotency_key == idempotency_key)
        ).first() is not None

    def pending_for(self, names: Iterable[str], business_key: str) -> list[InboxEntry]:
        """Undelivered messages for these names and key, oldest first."""
        names = list(names)
        if not names:
            return []
        rows = self.session.execute(
            select(InboxMessage.id, InboxMessage.message_name, InboxMessage.business_key, InboxMessage.payload)
            .where(InboxMessage.message_name.in_(names), InboxMessage.business_key == business_key,
                   InboxMessage.delivered_at.is_(None))
            .order_by(InboxMessage.id)
        )
        return [InboxEntry(**row._mapping) for row in rows]

    def deliverable(self, limit: int) -> list[tuple[int, int]]:
        """(inbox id, case id) pairs where a case now waits for a kept message."""
        rows = self.session.execute(
            select(InboxMessage.id, AwaitedMessageRow.instance_id)
            .join(AwaitedMessageRow, and_(
                AwaitedMessageRow.message_name == InboxMessage.message_name,
                AwaitedMessageRow.business_key == InboxMessage.business_key,
            ))
            .where(InboxMessage.delivered_at.is_(None))
            .order_by(InboxMessage.id).limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    def mark_delivered(self, inbox_id: int, instance_id: int, now: datetime) -> None:
        """Record that a kept message reached its case."""
        self.session.execute(
            update(InboxMessage).where(InboxMessage.id == inbox_id).values(delivered_at=now, instance_id=instance_id)
        )

    def count_pending(self) -> int:
        """How many messages still wait for their case."""
        return int(self.session.execute(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.delivered_at.is_(None))
        ).scalar_one())


_OUTBOX_COLUMNS = (
    OutboxMessage.id, OutboxMessage.channel, OutboxMessage.message_name, OutboxMessage.idempotency_key,
    OutboxMessage.instance_id,
    OutboxMessage.business_key, OutboxMessage.payload, OutboxMessage.attempts, OutboxMessage.delivered_at,
    OutboxMessage.delivered_to, OutboxMessage.last_error,
)


class OutboxRepository(Repository):
    """Messages for outside systems, written with the state that caused them."""

    def add(self, *, channel: str, name: str, idempotency_key: str, instance_id: int | None,
            business_key: str | None, payload: dict[str, Any], now: datetime) -> None:
        """Queue one message for delivery."""
        self.session.execute(
            insert(OutboxMessage).values(
                channel=channel, message_name=name, idempotency_key=idempotency_key, instance_id=instance_id,
                business_key=business_key, payload=payload, created_at=now, attempts=0,
                next_attempt_at=now, delivered_at=None, delivered_to=None, last_error=None,
            )
        )

    def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[OutboxItem]:
        """Reserve undelivered, due messages until ``lease_until``; rows another worker holds are skipped."""
        query = (
            select(*_OUTBOX_COLUMNS)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True)
        items = [OutboxItem(**row._mapping) for row in self.session.execute(query)]
        if items:
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([item.id for item in items]))
                .values(next_attempt_at=lease_until)
            )
        return items

    def mark_delivered(self, outbox_id: int, delivered_to: str, now: datetime) -> None:
        """Record a successful delivery."""
        self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(
                delivered_at=now, delivered_to=delivered_to[:500], attempts=OutboxMessage.attempts + 1,
                last_error=None,
            )
        )

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime) -> None:
        """Record a failed attempt and when to try again."""
        self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(
                attempts=OutboxMessage.attempts + 1, last_error=error[:2000], next_attempt_at=retry_at,
            )
        )

    def listing(
        self, *, instance_id: int | None = None, pending_only: bool = False, limit: int = 100
    ) -> list[OutboxItem]:
        """Outbox messages, newest first, optionally of one case or only the undelivered."""
        query = select(*_OUTBOX_COLUMNS)
        if instance_id is not None:
            query = query.where(OutboxMessage.instance_id == instance_id)
        if pending_only:
            query = query.where(OutboxMessage.delivered_at.is_(None))
        rows = self.session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit))
        return [OutboxItem(**row._mapping) for row in rows]


class EventLogRepository(Repository):
    """The append-only event log (the database refuses updates and deletes too)."""

    def append(self, records: Iterable[EventRecord]) -> None:
        """Add entries; never changes existing ones."""
        rows = [
            {"at": r.at, "instance_id": r.instance_id, "business_key": r.business_key, "actor": r.actor,
             "action": r.action, "element_id": r.element_id, "paragraph": r.paragraph, "details": r.details}
            for r in records
        ]
        if rows:
            self.session.execute(insert(EventLogEntry), rows)

    def for_instance(self, instance_id: int) -> list[EventRecord]:
        """A case's history, oldest first."""
        rows = self.session.execute(
            select(EventLogEntry.at, EventLogEntry.actor, EventLogEntry.action, EventLogEntry.instance_id,
                   EventLogEntry.business_key, EventLogEntry.element_id, EventLogEntry.paragraph,
                   EventLogEntry.details)
            .where(EventLogEntry.instance_id == instance_id).order_by(EventLogEntry.id)
        )
        return [EventRecord(**row._mapping) for row in rows]


class StaffRepository(Repository):
    """Staff accounts: looked up by login, never listed with their password hashes."""

    def by_login(self, login: str) -> tuple[StaffMember, str, int, datetime | None, bool] | None:
        """(member, password hash, failed sign-ins, locked until, active) for a login."""
        row = self.session.execute(
            select(StaffUser.id, StaffUser.login, StaffUser.full_name, StaffUser.roles, StaffUser.language,
                   StaffUser.password_hash, StaffUser.failed_logins, StaffUser.locked_until, StaffUser.active)
            .where(StaffUser.login == login)
        ).first()
        if row is None:
            return None
        member = StaffMember(row.id, row.login, row.full_name, frozenset(filter(None, row.roles.split(","))),
                             row.language)
        return member, row.password_hash, row.failed_logins, row.locked_until, row.active

    def get(self, member_id: int) -> StaffMember | None:
        """An active member of staff by id (for the signed-in session)."""
        row = self.session.execute(
            select(StaffUser.id, StaffUser.login, StaffUser.full_name, StaffUser.roles, StaffUser.language)
            .where(StaffUser.id == member_id, StaffUser.active.is_(True))
        ).first()
        if row is None:
            return None
        return StaffMember(row.id, row.login, row.full_name, frozenset(filter(None, row.roles.split(","))),
                           row.language)

    def add(self, *, login: str, full_name: str, password_hash: str, roles: Iterable[str], language: str,
            now: datetime) -> int:
        """Create an account and return its id."""
        result = self.session.execute(
            insert(StaffUser).values(
                login=login, full_name=full_name, password_hash=password_hash, roles=",".join(sorted(roles)),
                language=language, active=True, failed_logins=0, locked_until=None, created_at=now,
            ).returning(StaffUser.id)
        )
        return int(result.scalar_one())

    def record_failure(self, member_id: int, failures: int, locked_until: datetime | None) -> None:
        """Count a failed sign-in (and lock the account when there were too many)."""
        self.session.execute(
            update(StaffUser).where(StaffUser.id == member_id)
            .values(failed_logins=failures, locked_until=locked_until)
        )

    def record_success(self, member_id: int, password_hash: str | None = None) -> None:
        """Clear the failure count; store a re-hashed password if the hashing parameters changed."""
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        if password_hash:
            values["password_hash"] = password_hash
        self.session.execute(update(StaffUser).where(StaffUser.id == member_id).values(**values))

    def set_language(self, member_id: int, language: str) -> None:
        """Remember the interface language a member of staff chose."""
        self.session.execute(update(StaffUser).where(StaffUser.id == member_id).values(language=language))


class ApiClientRepository(Repository):
    """Outside systems and the hashes of their tokens."""

    def by_token_hash(self, token_hash: str) -> ApiClientInfo | None:
        """The active client holding the token with this hash."""
        row = self.session.execute(
            select(ApiClient.id, ApiClient.name, ApiClient.scopes)
            .where(ApiClient.token_hash == token_hash, ApiClient.active.is_(True))
        ).first()
        return ApiClientInfo(row.id, row.name, frozenset(filter(None, row.scopes.split(",")))) if row else None

    def add(self, *, name: str, token_hash: str, scopes: Iterable[str], now: datetime) -> int:
        """Register a client; only the token's hash is kept."""
        result = self.session.execute(
            insert(ApiClient).values(name=name, token_hash=token_hash, scopes=",".join(sorted(scopes)),
                                     active=True, created_at=now).returning(ApiClient.id)
        )
        return int(result.scalar_one())

    def exists(self, name: str) -> bool:
        """Whether a client with this name is registered."""
        return self.session.execute(select(ApiClient.id).where(ApiClient.name == name)).first() is not None
