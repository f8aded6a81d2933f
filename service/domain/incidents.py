"""Incidents: a case that failed while running, parked until a retry succeeds or someone repairs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

#: Where the case failed: a timer, a message delivery, a task completion, its start, or a repair.
IncidentKind = Literal["timer", "message", "task", "start", "repair"]
INCIDENT_KINDS: tuple[str, ...] = ("timer", "message", "task", "start", "repair")

#: Who resolves an incident whose retry succeeded, and how the resolution reads.
RETRY_RESOLVER = "system:timer"
RESOLVED_ON_RETRY = "succeeded on retry"


@dataclass(frozen=True)
class Incident:
    """One case's failure as operators see it: where, what, since when, and how often it was tried."""

    id: int
    instance_id: int
    business_key: str | None
    process_id: str
    diagram_version: str | None
    element_id: str | None
    element_name: str | None
    kind: str
    #: What the engine knows: file, element id and name, line, and the message.
    error: str
    first_at: datetime
    last_at: datetime
    tries: int
    next_try_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None

    @property
    def open(self) -> bool:
        """Whether nobody (and no successful retry) has resolved it yet."""
        return self.resolved_at is None
