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
