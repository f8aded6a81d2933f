"""Read-only queries for operators: counts for the metrics endpoint, stuck outbox and inbox messages.

Every count goes through an index: ``pending_timers.fire_at``, ``outbox (delivered_at, …)``,
the partial index of kept inbox messages (``ix_inbox_kept``), the open incidents' partial unique
index, and the event log's primary key (tasks completed are counted over an id range, see
``service/application/metrics.py``). Benchmark 7 measures a scrape.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Table, func, select

from service.domain.operations import StaleInboxMessage, StaleOutboxMessage

from .models import EventLogEntry, InboxMessage, OutboxMessage, PendingTimerRow, ProcessInstance
from .repositories import Repository

_Timer: Table = PendingTimerRow.__table__  # type: ignore[assignment]
_Outbox: Table = OutboxMessage.__table__  # type: ignore[assignment]
_Inbox: Table = InboxMessage.__table__  # type: ignore[assignment]
_Events: Table = EventLogEntry.__table__  # type: ignore[assignment]
_Instances: Table = ProcessInstance.__table__  # type: ignore[assignment]


class OperationsQueries(Repository):
    """Counts and listings that operators read; nothing here writes."""

    def timers_due_by(self, instant: datetime) -> int:
        """How many pending timers should have fired by ``instant`` (their retry time included)."""
        query = select(func.count()).select_from(_Timer).where(_Timer.c.fire_at <= instant)
        return int(self.session.execute(query).scalar_one())

    def outbox_backlog(self) -> dict[str, int]:
        """Undelivered outbox messages per channel."""
        query = (select(_Outbox.c.channel, func.count()).where(_Outbox.c.delivered_at.is_(None))
                 .group_by(_Outbox.c.channel))
        return {str(channel): int(count) for channel, count in self.session.execute(query)}

    def inbox_kept(self) -> int:
        """Incoming messages kept for a case that has not taken them yet."""
        query = select(func.count()).select_from(_Inbox).where(_Inbox.c.delivered_at.is_(None))
        return int(self.session.execute(query).scalar_one())

    def newest_event_id(self) -> int:
        """The highest id in the event log (0 when it is empty)."""
        return int(self.session.execute(select(func.coalesce(func.max(_Events.c.id), 0))).scalar_one())

    def count_actions(self, action: str, above_id: int, up_to_id: int | None = None) -> int:
        """Event-log entries of ``action`` with ``above_id < id <= up_to_id`` (a primary-key range)."""
        query = select(func.count()).select_from(_Events).where(_Events.c.action == action, _Events.c.id > above_id)
        if up_to_id is not None:
            query = query.where(_Events.c.id <= up_to_id)
        return int(self.session.execute(query).scalar_one())

    def owners(self, instance_ids: Collection[int]) -> dict[int, int | None]:
        """The organisation owning each of these cases."""
        if not instance_ids:
            return {}
        query = select(_Instances.c.id, _Instances.c.organisation_id).where(_Instances.c.id.in_(list(instance_ids)))
        return {int(row[0]): row[1] for row in self.session.execute(query)}

    def stale_outbox(self, queued_before: datetime, *, organisation_ids: Collection[int] | None = None,
                     limit: int = 200) -> list[StaleOutboxMessage]:
        """Undelivered messages queued before ``queued_before``, oldest first (of these organisations' cases)."""
        c = _Outbox.c
        query = (select(c.id, c.channel, c.message_name, c.instance_id, c.business_key, c.attempts, c.last_error,
                        c.created_at, c.next_attempt_at)
                 .where(c.delivered_at.is_(None), c.created_at < queued_before))
        if organisation_ids is not None:
            owned = select(_Instances.c.id).where(_Instances.c.organisation_id.in_(list(organisation_ids)))
            query = query.where(c.instance_id.in_(owned))
        rows = self.session.execute(query.order_by(c.created_at, c.id).limit(limit))
        return [StaleOutboxMessage(**row._mapping) for row in rows]

    def stale_inbox(self, received_before: datetime, *, limit: int = 200) -> list[StaleInboxMessage]:
        """Messages no case has taken, received before ``received_before``, oldest first."""
        c = _Inbox.c
        query = (select(c.id, c.message_name, c.business_key, c.received_at)
                 .where(c.delivered_at.is_(None), c.received_at < received_before)
                 .order_by(c.received_at, c.id).limit(limit))
        return [StaleInboxMessage(**row._mapping) for row in self.session.execute(query)]
