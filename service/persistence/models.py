"""Tables: one state row per case, narrow projections beside it, inbox, outbox and event log.

The task list and the timer sweep read only ``open_tasks`` and ``pending_timers`` through their
indexes; no query on a hot path deserializes a workflow. All instants are stored in UTC
(:class:`UtcDateTime`) so that SQLite, which has no time zones, compares them correctly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from service.domain.time import ALMATY


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware in Python (Asia/Almaty), UTC in the database; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; give it a UTC offset")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(ALMATY)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class DiagramVersion(Base):
    """A diagram's exact bytes, stored once per content hash; instances point at their version."""

    __tablename__ = "diagram_versions"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120), index=True)
    file: Mapped[str] = mapped_column(String(500))
    source: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]


class OrganisationRow(Base):
    """A school or a reviewing body from the operator's registry."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bin: Mapped[str] = mapped_column(String(12), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    name_kk: Mapped[str] = mapped_column(String(500))
    name_ru: Mapped[str] = mapped_column(String(500))
    address_kk: Mapped[str] = mapped_column(String(500))
    address_ru: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str] = mapped_column(String(60))
    email: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(200), index=True)
    district: Mapped[str] = mapped_column(String(200))
    working_hours: Mapped[str] = mapped_column(String(20), default="")
    head_name: Mapped[str] = mapped_column(String(200))
    head_position_kk: Mapped[str] = mapped_column(String(200))
    head_position_ru: Mapped[str] = mapped_column(String(200))
    locality_kk: Mapped[str] = mapped_column(String(200), default="")
    locality_ru: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class MembershipRow(Base):
    """A member of staff in one organisation: the roles held there and the position on documents."""

    __tablename__ = "memberships"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True, index=True)
    roles: Mapped[str] = mapped_column(String(400))
    position_kk: Mapped[str] = mapped_column(String(200), default="")
    position_ru: Mapped[str] = mapped_column(String(200), default="")


class ProcessInstance(Base):
    """One case: its serialized workflow state, locked optimistically by ``version``."""

    __tablename__ = "process_instances"
    __table_args__ = (UniqueConstraint("process_id", "business_key", name="uq_instance_business_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The organisation that owns the case: the school providing the service, the body reviewing a complaint.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: For a complaint: the organisation whose decision, action or inaction is appealed.
    appealed_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: For a complaint: the service case it is about (the administrative case forwarded with it).
    related_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str] = mapped_column(String(120), index=True)
    diagram_hash: Mapped[str] = mapped_column(ForeignKey("diagram_versions.content_hash"))
    #: The deployment (diagram, forms, access file) the case runs on; see ``deployment_models``.
    deployment_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OpenTaskRow(Base):
    """A user task waiting for a person: the whole task list is served from this table."""

    __tablename__ = "open_tasks"
    __table_args__ = (
        Index("ix_open_tasks_org_lane_created", "organisation_id", "lane", "created_at", "task_id"),
        Index("ix_open_tasks_assignee_created", "assignee", "created_at", "task_id"),
        Index("ix_open_tasks_due", "due_at"),
    )

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str] = mapped_column(String(120))
    element_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(120))
    #: The organisation whose staff do this task (the case's owner, or for some lanes the appealed one).
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None]
    assignee: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]


class PendingTimerRow(Base):
    """A timer a case waits on; the sweep reads ``fire_at`` through its index."""

    __tablename__ = "pending_timers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime]
    fire_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class AwaitedMessageRow(Base):
    """A message a case's catch event is ready for, found by name and business key."""

    __tablename__ = "awaited_messages"
    __table_args__ = (Index("ix_awaited_name_key", "message_name", "business_key"),)

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), primary_key=True)
    message_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    business_key: Mapped[str] = mapped_column(String(120))


class InboxMessage(Base):
    """A message that arrived before any case waited for it; kept until one does."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_pending", "message_name", "business_key", "delivered_at"),
        # the messages still kept, oldest first: what the metrics count and the operations page lists
        Index("ix_inbox_kept", "received_at", sqlite_where=text("delivered_at IS NULL"),
              postgresql_where=text("delivered_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_name: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]]
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))


class OutboxMessage(Base):
    """A message for an outside system, delivered at least once by the worker."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40))
    message_name: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    delivered_to: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)


class EventLogEntry(Base):
    """Append-only record: who did what, when, to which case, under which paragraph."""

    __tablename__ = "event_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(120))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    element_id: Mapped[str | None] = mapped_column(String(120))
    paragraph: Mapped[str | None] = mapped_column(String(60))
    details: Mapped[dict[str, Any]]



class StaffUser(Base):
    """A member of staff who signs in to the task list; roles are the diagrams' lane ids."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="ru")
    national_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    #: Where task notifications go (none: not notified), how often, and when the last digest went.
    email: Mapped[str | None] = mapped_column(String(254))
    notify_every: Mapped[str] = mapped_column(String(20), default="immediate")
    last_digest_at: Mapped[datetime | None]


class ApiClient(Base):
    """An outside system allowed to call /api/v1 (the portal, the SMS gateway, a state IS)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(400))
    #: A client bound to one organisation sees and submits only that organisation's cases.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class AttachmentRow(Base):
    """A scanned document handed in with an application; medical ones are restricted-access data."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_key: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime]

class IncidentRow(Base):
    """A case that failed while running; at most one open (unresolved) incident per case."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("uq_incidents_open_case", "instance_id", unique=True,
              sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    #: The diagram version the case ran on when it failed.
    diagram_hash: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    element_id: Mapped[str | None] = mapped_column(String(120))
    element_name: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str] = mapped_column(Text)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime] = mapped_column(index=True)
    tries: Mapped[int] = mapped_column(Integer)
    next_try_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(String(500))


# Register the documents and sessions tables on Base.metadata (they import Base from here).
from . import deployment_models, document_models, notification_models, search_models, session_models  # noqa: E402, F401
