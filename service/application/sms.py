"""What the SMS gateway reports back: that an SMS reached the phone (or could not), and late replies.

§7-1 counts the 24 hours for the answer "from the moment the request is received" — the moment the
offer SMS reached the phone, which only the gateway knows. The gateway names the SMS by the
idempotency key it was sent with (``message_id``) and says when it was delivered:

- a report on the SMS a case is waiting to hear about (its latest SMS of that kind) is delivered
  to the case as the message ``sms_delivery_report``; the offer starts its 24 hours from ``at``;
- any other report (an earlier SMS, the answer to a late reply, a case that moved on) is recorded
  on the case and marked handled — never kept waiting in the inbox;
- each report is taken once: the same SMS and status again is a ``duplicate``.

A reply that comes after the offer closed is answered here too (:func:`answer_closed_offer`): an
SMS saying the offer closed and how to apply, queued with the record that the reply was handled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from service.domain.errors import ConcurrencyConflict, DuplicateMessage, InvalidInput, NotFound
from service.domain.model import EventRecord, OutboxItem
from service.domain.staff import Actor
from service.domain.time import format_instant
from service.persistence.uow import UnitOfWork

from ._running import sms_payload
from .cases import deliver_message
from .runtime import Runtime

#: The message a case receives when the gateway reports on its latest SMS.
DELIVERY_REPORT = "sms_delivery_report"
#: What the gateway may report: the SMS reached the phone, or the gateway gave up on it.
DELIVERY_STATUSES = ("delivered", "failed")
#: How far ahead of the service's clock a reported delivery instant may be (the two clocks differ a little).
CLOCK_SKEW = timedelta(minutes=5)
#: The SMS answering a reply to an offer that is closed: it says so and how to apply (kk, ru).
OFFER_CLOSED_SMS = "sms.proactive_offer_closed"

DeliveryStatus = Literal["delivered", "failed"]


class NoSuchSms(NotFound):
    """No SMS was sent with this message id."""


class ImplausibleDeliveryTime(InvalidInput):
    """The reported delivery instant lies in the future of the service's clock, or before the SMS was queued."""


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of a delivery report, and which case's SMS it was about."""

    result: Literal["delivered", "kept", "recorded", "duplicate"]
    business_key: str | None


def _report_key(message_id: str, status: str) -> str:
    """The inbox key of a report: one per SMS and status, so a resent report is recognised."""
    digest = hashlib.sha256(f"{message_id}\x00{status}".encode()).hexdigest()
    return f"sms-delivery:{digest}"


def report_sms_delivery(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, actor: Actor, message_id: str,
    status: DeliveryStatus, at: datetime, now: datetime, reason: str | None = None,
) -> DeliveryOutcome:
    """Take the gateway's report on one SMS: to the case waiting for it, else onto the case's record."""
    if status not in DELIVERY_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    if at > now + CLOCK_SKEW:
        raise ImplausibleDeliveryTime(f"the reported instant {format_instant(at)} is in the future")
    key = _report_key(message_id, status)
    try:
        with uow_factory() as uow:
            if uow.inbox.seen(key):
                return DeliveryOutcome("duplicate", None)
            item = uow.outbox.by_key(message_id)
            if item is None or item.channel != "sms" or item.instance_id is None or not item.business_key:
                raise NoSuchSms(f"no SMS was sent as {message_id!r}")
            if item.created_at is not None and at < item.created_at - CLOCK_SKEW:
                raise ImplausibleDeliveryTime(f"the reported instant {format_instant(at)} is before the SMS was sent")
            payload = _report_payload(item, status, at, reason)
            if _awaited(uow, item):
                receipt = deliver_message(uow, runtime, actor=actor, name=DELIVERY_REPORT,
                                          business_key=item.business_key, payload=payload, now=now,
                                          idempotency_key=key)
                return DeliveryOutcome(receipt.outcome if receipt.outcome != "started" else "delivered",
                                       item.business_key)
            _record(uow, item, payload, key, actor, now)
            return DeliveryOutcome("recorded", item.business_key)
    except (ConcurrencyConflict, DuplicateMessage):  # the same report, racing: one of them was taken
        with uow_factory() as uow:
            if not uow.inbox.seen(key):
                raise
        return DeliveryOutcome("duplicate", None)


def _report_payload(item: OutboxItem, status: str, at: datetime, reason: str | None) -> dict[str, Any]:
    """What the case (and the record) learns from a report."""
    payload: dict[str, Any] = {"message_id": item.idempotency_key, "message": item.message_name, "status": status,
                               "at": format_instant(at), "phone": item.payload.get("phone")}
    if reason:
        payload["reason"] = reason
    return payload


def _awaited(uow: UnitOfWork, item: OutboxItem) -> bool:
    """Whether the case waits to hear about this SMS: it waits for a report, and this is its latest such SMS."""
    assert item.instance_id is not None and item.business_key is not None
    if uow.awaited.instance_waiting(DELIVERY_REPORT, item.business_key) != item.instance_id:
        return False
    return uow.outbox.newest_id(item.instance_id, item.message_name) == item.id


def _record(uow: UnitOfWork, item: OutboxItem, payload: dict[str, Any], key: str, actor: Actor,
            now: datetime) -> None:
    """Keep a report nobody waits for as handled (never pending), and note it on the case."""
    assert item.instance_id is not None and item.business_key is not None
    inbox_id = uow.inbox.add(DELIVERY_REPORT, item.business_key, payload, key, now)
    uow.inbox.mark_delivered(inbox_id, item.instance_id, now)
    uow.events.append([EventRecord(
        at=now, actor=actor.login, action="sms_delivery_recorded", instance_id=item.instance_id,
        business_key=item.business_key,
        details={"message": item.message_name, "message_id": item.idempotency_key, "status": payload["status"],
                 "at": payload["at"]},
    )])
    uow.commit()


def answer_closed_offer(
    uow: UnitOfWork, *, actor: Actor, instance_id: int, offer: str, reply_name: str, reply: Mapping[str, Any],
    inbox_id: int, now: datetime,
) -> None:
    """§7-1: a reply to a closed offer (kept in the inbox as ``inbox_id``) is handled, and answered by SMS.

    The SMS says the offer closed and how to apply. A phone that was told already (an earlier late
    reply, or the clerk's closing) is not told again.
    """
    uow.inbox.mark_delivered(inbox_id, instance_id, now)
    told = _told_closed(uow, instance_id, reply["phone"])
    if not told:
        answer = sms_payload(OFFER_CLOSED_SMS, {"phone": reply["phone"], "offer_number": offer})
        uow.outbox.add(channel="sms", name=OFFER_CLOSED_SMS, payload=answer, now=now,
                       idempotency_key=f"{reply_name}/{instance_id}/late/{inbox_id}", instance_id=instance_id,
                       business_key=offer)
    uow.events.append([EventRecord(
        at=now, actor=actor.login, action="late_reply_answered", instance_id=instance_id, business_key=offer,
        paragraph="§7-1",
        details={"consent": bool(reply.get("consent")), "answer": None if told else OFFER_CLOSED_SMS},
    )])
    uow.commit()


def _told_closed(uow: UnitOfWork, instance_id: int, phone: object) -> bool:
    """Whether this phone was already sent the closed-offer SMS of this case."""
    sent = uow.outbox.listing(instance_id=instance_id, limit=200)
    return any(item.message_name == OFFER_CLOSED_SMS and item.payload.get("phone") == phone for item in sent)
