"""The vocabulary shared by every layer: what a case is waiting for, what it did, what it sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class OpenTask:
    """A user task waiting for a person in a role (the diagram's lane)."""

    task_id: str
    element_id: str
    title: str
    lane: str | None
    due_at: datetime | None = None
    paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingTimer:
    """A timer the case waits on; the worker fires it once ``due_at`` has passed."""

    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class OutgoingMessage:
    """A message a diagram sent to an outside system, to be put in the outbox."""

    name: str
    channel: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """An element the engine completed during one use case."""

    element_id: str
    name: str
    kind: str
    lane: str | None
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """Everything the database keeps beside a case's state, read off the engine after a run."""

    completed: bool
    open_tasks: tuple[OpenTask, ...]
    timers: tuple[PendingTimer, ...]
    awaited_messages: tuple[str, ...]
    outgoing: tuple[OutgoingMessage, ...] = ()
    steps: tuple[Step, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSummary:
    """One row of a task list, read from the task table alone."""

    task_id: str
    instance_id: int
    process_id: str
    business_key: str
    element_id: str
    title: str
    lane: str | None
    due_at: datetime | None
    assignee: str | None
    created_at: datetime
    #: The organisation whose staff do this task.
    organisation_id: int | None = None


@dataclass(frozen=True)
class EventRecord:
    """One entry of the append-only event log."""

    at: datetime
    actor: str
    action: str
    instance_id: int | None = None
    business_key: str | None = None
    element_id: str | None = None
    paragraph: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting in (or delivered from) the outbox."""

    id: int
    channel: str
    message_name: str
    idempotency_key: str
    instance_id: int | None
    business_key: str | None
    payload: dict[str, Any]
    attempts: int
    delivered_at: datetime | None = None
    delivered_to: str | None = None
    last_error: str | None = None
    #: When it was queued (the instant of the step that sent it).
    created_at: datetime | None = None
