"""What operators watch: messages stuck in the outbox or the inbox, and the figures the metrics endpoint exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class StaleOutboxMessage:
    """A message for an outside system still undelivered long after it was queued."""

    id: int
    channel: str
    message_name: str
    instance_id: int | None
    business_key: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime


@dataclass(frozen=True)
class StaleInboxMessage:
    """An incoming message that no case has taken long after it arrived."""

    id: int
    message_name: str
    business_key: str
    received_at: datetime


@dataclass(frozen=True)
class OperationsFigures:
    """The figures of one metrics scrape, all read from the database at that moment."""

    open_incidents: int
    timers_due: int
    timers_overdue: int
    outbox_backlog: dict[str, int] = field(default_factory=dict)
    inbox_kept: int = 0
    tasks_completed: int = 0
