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
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from .cases import deliver_message
from .intake import start_owners
from .queries import find_case
from .runtime import Runtime
from .sms import answer_closed_offer
from .timers import fire_overdue

#: The offer a citizen's SMS reply is delivered to, and the message it is delivered as (§7-1).
OFFER_PROCESS, OFFER_REPLY = "proactive_offer", "proactive_reply"
#: The process consent starts, under the offer's number.
SERVICE_PROCESS = "service_delivery"


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
            owners = start_owners(uow, form=f"{process_id}/{message}", payload=body, registered_at=None)
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
    text: str | None, idempotency_key: str | None, now: datetime,
) -> Literal["delivered", "kept", "duplicate", "started", "closed"]:
    """§7-1: deliver a citizen's SMS reply to the offer it answers (each reply once).

    The offer's timers due by ``now`` fire first, so a reply after the 24 hours never beats a lagging
    worker. A reply the offer no longer waits for is answered by SMS ("closed": the offer closed, how
    to apply) and kept as handled — unless consent already started the service (:class:`OfferClosed`).
    """
    inbox_key = "api:" + _digest("sms", actor.login, idempotency_key) if idempotency_key else None
    with uow_factory() as uow:
        if inbox_key is not None and uow.inbox.seen(inbox_key):
            return "duplicate"
        instance_id = find_case(uow, runtime, actor=actor, process_id=OFFER_PROCESS, business_key=offer)
    if instance_id is None:
        raise NoOffer(f"there is no offer {offer}")
    fire_overdue(uow_factory, runtime, instance_id=instance_id, now=now)
    payload: dict[str, Any] = {"consent": consent, "phone": phone}
    if text:
        payload["note"] = text
    try:
        with uow_factory() as uow:
            if uow.awaited.instance_waiting(OFFER_REPLY, offer) is None:
                # A racing copy of this very reply may have closed the offer a moment ago.
                if inbox_key is not None and uow.inbox.seen(inbox_key):
                    return "duplicate"
                if find_case(uow, runtime, actor=actor, process_id=SERVICE_PROCESS, business_key=offer) is not None:
                    raise OfferClosed(f"offer {offer} was accepted: the service is under way")
                answer_closed_offer(uow, actor=actor, instance_id=instance_id, offer=offer, reply_name=OFFER_REPLY,
                                    reply=payload, inbox_key=inbox_key, now=now)
                return "closed"
            receipt = deliver_message(uow, runtime, actor=actor, name=OFFER_REPLY, business_key=offer,
                                      payload=payload, now=now, idempotency_key=inbox_key)
    except (ConcurrencyConflict, DuplicateMessage):  # the same reply, racing: one of them was received
        with uow_factory() as uow:
            if inbox_key is None or not uow.inbox.seen(inbox_key):
                raise
        return "duplicate"
    return receipt.outcome
