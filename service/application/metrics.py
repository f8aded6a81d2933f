"""The figures the metrics endpoint exports, read from the database at scrape time.

Every web process computes the same figures from the same rows, so two gunicorn workers never
disagree. Tasks completed are the event log's ``task_completed`` entries; the log only grows, so a
process remembers the count up to an id well below the newest (``SETTLED_MARGIN`` ids, far more
than transactions in flight can hold) and each scrape counts only the ids above it, through the
primary key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.domain.operations import OperationsFigures
from service.domain.outbox import OUTBOX_CHANNELS
from service.persistence.uow import UnitOfWork

#: A timer whose firing time passed longer ago than this and is still pending is overdue.
OVERDUE_AFTER = timedelta(minutes=1)
#: Event-log ids this far below the newest are taken as committed for good (see the module's docstring).
SETTLED_MARGIN = 10_000


@dataclass
class EventTally:
    """A running count of one kind of event-log entry, remembered up to a settled id (one per process)."""

    action: str
    settled_up_to: int = 0
    settled_count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, uow: UnitOfWork) -> int:
        """The number of entries of this action in the log now."""
        settle_to = uow.operations.newest_event_id() - SETTLED_MARGIN
        with self._lock:
            if settle_to > self.settled_up_to:
                self.settled_count += uow.operations.count_actions(self.action, self.settled_up_to, settle_to)
                self.settled_up_to = settle_to
            base, above = self.settled_count, self.settled_up_to
        return base + uow.operations.count_actions(self.action, above)


def read_figures(uow: UnitOfWork, tasks_completed: EventTally, now: datetime) -> OperationsFigures:
    """Open incidents, due and overdue timers, outbox backlog per channel, kept inbox messages, tasks completed."""
    backlog = dict.fromkeys(OUTBOX_CHANNELS, 0)
    backlog.update(uow.operations.outbox_backlog())
    return OperationsFigures(
        open_incidents=uow.incidents.count_open(),
        timers_due=uow.operations.timers_due_by(now),
        timers_overdue=uow.operations.timers_due_by(now - OVERDUE_AFTER),
        outbox_backlog=backlog,
        inbox_kept=uow.operations.inbox_kept(),
        tasks_completed=tasks_completed.count(uow),
    )
