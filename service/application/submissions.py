"""What outside systems submit over the API: numbered, idempotent, each exactly once.

Idempotency builds on the inbox, which keeps each message's idempotency key (unique):

- the number of a case the service numbers itself (an application, a complaint) is derived from
  the client and its ``Idempotency-Key``, so a retry finds the case it started;
- the inbox key is derived from the client, the key *and a hash of the body*, so a retry with the
  same body is recognised and a different body under a used key is not: the case exists but its
  message was another one (:class:`KeyReused`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from service.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    DuplicateCase,
    DuplicateMessage,
    NotFound,
    NotPermitted,
)
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.domain.time import format_instant
from service.persistence.uow import UnitOfWork

from ._running import load_case
from .cases import deliver_message, deliver_stored
from .intake import start_owners
from .queries import find_case
from .runtime import Runtime
from .sms import answer_closed_offer
from .timers import fire_overdue

#: The message a citizen's SMS reply is delivered as (§7-1); the process declaring that the API delivers it
#: (``api_messages`` in its declaration) is the offer's.
OFFER_REPLY = "proactive_reply"


class KeyReused(DomainError):
    """The Idempotency-Key was used before with another request body."""


class NumberTaken(DomainError):
    """A case with the number the client gave exists already (and this request did not start it)."""


class NotDeployed(DomainError):
    """No diagram starts on this message: the process is not deployed."""


class NoOffer(NotFound):
    """There is no proactive offer with this number."""


class OfferClosed(DomainError):
    """The offer was accepted: consent started the service, and a further reply has nothing to go to."""


@dataclass(frozen=True)
class Started:
    """The case a submission started (``created``) or that an earlier identical request started."""

    instance_id: int
    created: bool


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x00".join(str(part) for part in parts).encode("utf-8")).hexdigest()


def _body_hash(body: Mapping[str, Any]) -> str:
    return _digest(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


@dataclass(frozen=True)
class Numbering:
    """A submission's case number and inbox key, and whether the number came from the Idempotency-Key."""

    number: str
    inbox_key: str | None
    by_key: bool


def numbered(kind: str, prefix: str, client_id: int, key: str | None, body: Mapping[str, Any],
             now: datetime) -> Numbering:
    """Number a submission the service numbers itself: from the client's key if it gave one, else fresh."""
    if key:
        return Numbering(f"{prefix}-{_digest(kind, client_id, key)[:16].upper()}",
                         "api:" + _digest(kind, client_id, key, _body_hash(body)), True)
    return Numbering(f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(4).upper()}", None, False)


def given_number(kind: str, number: str, client_id: int, key: str | None, body: Mapping[str, Any]) -> Numbering:
    """A submission whose number the client gives (a proactive offer's number)."""
    return Numbering(number, "api:" + _digest(kind, client_id, key, _body_hash(body)) if key else None, False)


def start_submitted(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, actor: Actor, process_id: str, message: str,
    numbering: Numbering, payload: Mapping[str, Any], now: datetime,
) -> Started:
    """Start a case with its start message; a retry of the same request finds the case it started."""
    if runtime.engine.library.process_starting_with(message) is None:
        raise NotDeployed(f"no diagram starts on '{message}'")
    found = _earlier(uow_factory, runtime, process_id, numbering)
    if found is not None:
        return found
    try:
        with uow_factory() as uow:
            body = dict(payload)
            owners = start_owners(uow, form=f"{process_id}/{message}", payload=body, registered_at=None,
                                  appealable=runtime.declarations.appealable())
            bound = actor.organisation_ids
            if bound and not bound & {owners.organisation_id, owners.appealed_organisation_id}:
                raise NotPermitted("this client submits only for its own organisation")
            receipt = deliver_message(uow, runtime, actor=actor, name=message, business_key=numbering.number,
                                      payload=body, owners=owners, now=now, idempotency_key=numbering.inbox_key)
    # A request racing this one got there first (on PostgreSQL the inbox insert waits for it, then fails).
    except (DuplicateCase, DuplicateMessage, ConcurrencyConflict):
        found = _earlier(uow_factory, runtime, process_id, numbering)
        if found is None:
            raise
        return found
    if receipt.outcome == "duplicate":
        found = _earlier(uow_factory, runtime, process_id, numbering)
        if found is None:
            raise KeyReused("this Idempotency-Key was used with another request")
        return found
    if receipt.instance_id is None:
        raise NotDeployed(f"no diagram started on '{message}'")
    return Started(receipt.instance_id, created=True)


def _earlier(uow_factory: Callable[[], UnitOfWork], runtime: Runtime, process_id: str,
             numbering: Numbering) -> Started | None:
    """The case if it exists already and this request started it; KeyReused/NumberTaken if another did."""
    with uow_factory() as uow:
        instance_id = find_case(uow, runtime, actor=Actor.system("api"), process_id=process_id,
                                business_key=numbering.number)
        retry = instance_id is not None and numbering.inbox_key is not None and uow.inbox.seen(numbering.inbox_key)
    if instance_id is None:
        return None
    if not retry:
        if numbering.by_key:
            raise KeyReused("this Idempotency-Key was used with another request")
        raise NumberTaken(f"a case numbered {numbering.number} exists already")
    return Started(instance_id, created=False)


def reply_to_offer(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, actor: Actor, offer: str, consent: bool, phone: str,
    text: str | None, idempotency_key: str | None, now: datetime, received_at: datetime | None = None,
) -> Literal["delivered", "kept", "duplicate", "started", "closed"]:
    """§7-1: deliver a citizen's SMS reply to the offer it answers (each reply once).

    On time wins, whatever the order of processing: the reply is first kept in the inbox with the
    instant it was received (``received_at``, by default ``now``), so a timer processed later hands it
    to the offer before closing it (``fire_due_timers``); then only the offer's timers due by that
    instant fire, and the offer, locked, takes it. A reply received after the 24 hours is answered
    by SMS ("closed": the offer closed, how to apply) and kept as handled, never left waiting; after
    consent already started the service it is refused (:class:`OfferClosed`). The same
    Idempotency-Key with another body is :class:`KeyReused`.
    """
    received = received_at or now
    offers = runtime.declarations.accepting(OFFER_REPLY)
    if offers is None:
        raise NoOffer(f"no process takes '{OFFER_REPLY}' (none declares it in api_messages)")
    payload: dict[str, Any] = {"consent": consent, "phone": phone}
    if text:
        payload["note"] = text
    prefix = "api:" + _digest("sms", actor.login, idempotency_key) if idempotency_key else None
    inbox_key = f"{prefix}:{_body_hash(payload)[:16]}" if prefix else None
    try:
        with uow_factory() as uow:
            if inbox_key is not None and uow.inbox.seen(inbox_key):
                return "duplicate"
            if prefix is not None and uow.inbox.seen(prefix):  # kept before a reply's key named its body
                return "duplicate"
            used = uow.inbox.key_used(prefix + ":") if prefix is not None else None
            if used is not None:
                if used == inbox_key:  # the same reply, committed by a racing retry since our first look
                    return "duplicate"
                raise KeyReused("this Idempotency-Key was used with another reply")
            instance_id = find_case(uow, runtime, actor=actor, process_id=offers.process_id, business_key=offer)
            if instance_id is None:
                raise NoOffer(f"there is no offer {offer}")
            inbox_id = uow.inbox.add(OFFER_REPLY, offer, payload, inbox_key, received)
            uow.commit()
    except (ConcurrencyConflict, DuplicateMessage):  # the same reply, racing: one of them was received
        with uow_factory() as uow:
            if inbox_key is None or not uow.inbox.seen(inbox_key):
                raise
        return "duplicate"
    fire_overdue(uow_factory, runtime, instance_id=instance_id, now=received)
    with uow_factory() as uow:
        stored = load_case(uow, instance_id)  # locked: a timer fired meanwhile has finished (and took the reply)
        if uow.inbox.delivered(inbox_id):
            return "delivered"
        if uow.awaited.instance_waiting(OFFER_REPLY, offer) == instance_id:
            arrived = EventRecord(at=now, actor=actor.login, action="message_received", business_key=offer,
                                  details={"message": OFFER_REPLY, "received_at": format_instant(received)})
            receipt = deliver_stored(uow, runtime, stored, inbox_id, OFFER_REPLY, payload, now, actor, arrived)
            return receipt.outcome
        if any(find_case(uow, runtime, actor=actor, process_id=continued, business_key=offer) is not None
               for continued in offers.continued_by):
            uow.inbox.mark_delivered(inbox_id, instance_id, now)  # handled: nothing is left waiting
            uow.commit()
            raise OfferClosed(f"offer {offer} was accepted: the service is under way")
        answer_closed_offer(uow, actor=actor, instance_id=instance_id, offer=offer, reply_name=OFFER_REPLY,
                            reply=payload, inbox_id=inbox_id, now=now)
    return "closed"
