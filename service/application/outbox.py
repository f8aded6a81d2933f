"""Delivering the outbox to outside systems: at least once, with an idempotency key, with backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from service.domain.model import EventRecord, OutboxItem
from service.persistence.uow import UnitOfWork

log = logging.getLogger(__name__)

#: First retry delay; each further failure doubles it, up to :data:`MAX_RETRY_DELAY`.
FIRST_RETRY_DELAY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(hours=1)


class DeliveryFailed(Exception):
    """The outside system did not take the message; it will be tried again."""


class OutboxTransport(Protocol):
    """Hands one message to an outside system; the system dedupes by ``item.idempotency_key``."""

    def send(self, item: OutboxItem) -> str:
        """Deliver and return where it went; raise :class:`DeliveryFailed` if it did not."""
        ...


@dataclass
class OutboxRun:
    """What one pass over the outbox did."""

    delivered: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    held: list[int] = field(default_factory=list)


def retry_delay(attempts: int, first: timedelta = FIRST_RETRY_DELAY) -> timedelta:
    """Exponential backoff after ``attempts`` failed tries."""
    return min(first * (2 ** min(max(0, attempts), 20)), MAX_RETRY_DELAY)


#: How long a claimed message is reserved for the worker sending it; if that worker dies
#: mid-send, the message becomes due again after this (at-least-once, never lost).
CLAIM_LEASE = timedelta(minutes=5)


def deliver_outbox(
    uow_factory: Callable[[], UnitOfWork], transports: Mapping[str, OutboxTransport], *, now: datetime,
    batch: int = 50, actor: str = "system:outbox", first_retry: timedelta = FIRST_RETRY_DELAY,
) -> OutboxRun:
    """Send due outbox messages through their channel's transport; channels without one are held.

    Messages are claimed (leased) in one short transaction and their outcomes recorded in
    another, so no database lock is held while an outside system is slow to answer.
    """
    result = OutboxRun()
    with uow_factory() as uow:
        items = uow.outbox.claim_due(now, batch, lease_until=now + CLAIM_LEASE)
        uow.commit()
    if not items:
        return result
    outcomes: list[tuple[OutboxItem, str | None, str | None]] = []
    for item in items:
        transport = transports.get(item.channel)
        if transport is None:
            outcomes.append((item, None, f"no transport configured for channel '{item.channel}'"))
            continue
        try:
            outcomes.append((item, transport.send(item), None))
        except DeliveryFailed as exc:
            outcomes.append((item, None, str(exc)))
        except Exception as exc:  # noqa: BLE001 — anything else is a failed attempt of this message only
            log.warning("outbox message %s failed unexpectedly: %r", item.id, exc)
            outcomes.append((item, None, f"{type(exc).__name__}: {exc}"[:2000]))
    with uow_factory() as uow:
        records: list[EventRecord] = []
        for item, target, error in outcomes:
            if target is not None:
                uow.outbox.mark_delivered(item.id, target, now)
                result.delivered.append(item.id)
                records.append(EventRecord(
                    at=now, actor=actor, action="outbox_delivered", instance_id=item.instance_id,
                    business_key=item.business_key,
                    details={"message": item.message_name, "to": target, "idempotency_key": item.idempotency_key},
                ))
            elif item.channel not in transports:
                uow.outbox.mark_failed(item.id, error or "held", now + MAX_RETRY_DELAY)
                result.held.append(item.id)
            else:
                uow.outbox.mark_failed(item.id, error or "failed", now + retry_delay(item.attempts, first_retry))
                result.failed[item.id] = error or "failed"
        uow.events.append(records)
        uow.commit()
    return result
