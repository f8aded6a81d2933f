"""Use cases on one case: start it, complete a task, deliver a message, claim and release tasks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from service.domain.errors import (
    CaseHasIncident,
    ConcurrencyConflict,
    DuplicateMessage,
    InvalidInput,
    NotPermitted,
    TaskNotReady,
)
from service.domain.incidents import Incident
from service.domain.model import EventRecord, TaskSummary
from service.domain.staff import Actor
from service.persistence.repositories import StoredInstance
from service.persistence.uow import UnitOfWork

from ._running import CaseOwners, CaseRef, check_business_key, drain_inbox, load_case, open_case, resume, save_run
from .access import check_task, readable_case
from .incidents import FIRST_INCIDENT_RETRY, case_incident_error, describe_failure, parked_by, record_incident
from .runtime import Runtime

log = logging.getLogger(__name__)

#: Who may record that a decision went to court (§10), in the organisation that owns the case.
COURT_APPEAL_ROLES = frozenset({"head", "reviewing_official", "complaint_registrar"})


def start_case(
    uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str, business_key: str,
    data: Mapping[str, Any], owners: CaseOwners, now: datetime,
) -> CaseRef:
    """Start a new case of ``process_id`` keyed by ``business_key`` (e.g. the application number)."""
    ref = open_case(uow, runtime, process_id=process_id, business_key=business_key, data=data, actor=actor,
                    owners=owners, now=now)
    uow.commit()
    return ref


def open_task(uow: UnitOfWork, actor: Actor, task_id: str) -> TaskSummary:
    """An open task this person may work on (NotFound outside their organisations, NotPermitted for other roles)."""
    task = uow.tasks.get(task_id)
    if task is None:
        raise TaskNotReady("this task is no longer open: someone else completed it, or it was cancelled")
    check_task(actor, task)
    return task


def locked_task(uow: UnitOfWork, actor: Actor, task_id: str) -> tuple[TaskSummary, StoredInstance]:
    """An open task and its case, both locked in the one order every use case keeps: the case, then the task.

    One statement reads and locks both, so the task's assignee is the one a racing claim, release
    or completion left.
    """
    found = uow.tasks.with_case(task_id, lock=True)
    if found is None:
        raise TaskNotReady("this task is no longer open: someone else completed it, or it was cancelled")
    task, stored = found
    check_task(actor, task)
    return task, stored


def complete_task(
    uow: UnitOfWork, runtime: Runtime, *, actor: Actor, task_id: str, data: Mapping[str, Any],
    now: datetime, expected_version: int | None = None,
) -> CaseRef:
    """Complete an open user task with submitted data; exactly one of two racing submissions wins."""
    task, stored = locked_task(uow, actor, task_id)
    if task.assignee is not None and task.assignee != actor.login:
        raise NotPermitted(f"task '{task.title}' is claimed by {task.assignee}")
    if expected_version is not None and stored.version != expected_version:
        raise ConcurrencyConflict(
            f"case {stored.business_key} changed since the form was opened; reload it and try again"
        )
    run = resume(uow, runtime, stored)
    runtime.check_form(stored.process_id, task.element_id, data, context=run.task_data(task_id),
                       elements=run.diagram.element_ids, deployment_hash=stored.deployment_hash)
    try:
        step = run.complete_task(task_id, data, now)
        events = [EventRecord(
            at=now, actor=actor.login, action="task_completed", instance_id=stored.id,
            business_key=stored.business_key, element_id=step.element_id,
            paragraph=",".join(step.paragraphs) or None, details={"task": step.name, "fields": sorted(data)},
        )]
        events += drain_inbox(uow, run, stored.id, stored.business_key, actor.login, now)
        ref = save_run(uow, runtime, run, stored, actor=actor, now=now, events=events, acting_role=task.lane)
        uow.commit()
    except Exception as exc:
        if not parked_by(exc):
            raise
        raise _park(uow, runtime, stored, "task", exc, actor, now) from exc
    return ref


def _park(uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, kind: str, exc: BaseException, actor: Actor,
          now: datetime, keep: tuple[str, Mapping[str, Any], str | None] | None = None) -> CaseHasIncident:
    """Roll the attempt back, record the case's incident in a transaction of its own, and say so.

    ``keep`` (name, payload, idempotency key) is an incoming message kept in the inbox with the
    incident, so the retry delivers it; if the database refuses it too, the incident is recorded alone.
    """
    uow.rollback()
    failure = describe_failure(exc, runtime, stored.diagram_hash)
    log.warning("case %s parked as an incident (%s by %s): %s", stored.id, kind, actor.login, failure.error)

    def record(also: Callable[[UnitOfWork], object] | None) -> Incident:
        return record_incident(lambda: UnitOfWork(uow.database), instance_id=stored.id, kind=kind,
                               failure=failure, now=now, actor=actor.login,
                               retry_first=FIRST_INCIDENT_RETRY if keep else None, also=also)

    if keep is None:
        return case_incident_error(record(None))
    name, payload, key = keep
    try:
        incident = record(lambda other: other.inbox.add(name, stored.business_key, dict(payload), key, now))
    except Exception:  # noqa: BLE001 — the message itself cannot be stored: the incident still is
        return case_incident_error(record(None))
    return case_incident_error(incident, kept=True)


@dataclass(frozen=True)
class MessageReceipt:
    """What happened to an incoming message."""

    outcome: Literal["delivered", "started", "kept", "duplicate"]
    instance_id: int | None


def deliver_message(
    uow: UnitOfWork, runtime: Runtime, *, actor: Actor, name: str, business_key: str, payload: Mapping[str, Any],
    now: datetime, owners: CaseOwners | None = None, idempotency_key: str | None = None,
) -> MessageReceipt:
    """Deliver a message to the case waiting for it, start a case it starts, or keep it in the inbox.

    ``owners`` says which organisations a case the message starts belongs to; a message that
    would start a case without them is refused before anything is stored.
    """
    business_key = check_business_key(business_key)
    starter = runtime.engine.library.process_starting_with(name)
    if starter is not None:
        runtime.check_form(starter.process_id, name, payload)
    if starter is not None and owners is None and uow.awaited.instance_waiting(name, business_key) is None:
        raise InvalidInput(f"'{name}' starts a case: name the organisation it belongs to")
    if idempotency_key and uow.inbox.seen(idempotency_key):
        return MessageReceipt("duplicate", None)
    try:
        inbox_id = uow.inbox.add(name, business_key, dict(payload), idempotency_key, now)
    except DuplicateMessage:  # the same key raced in from a parallel request: that one wins
        return MessageReceipt("duplicate", None)
    received = EventRecord(at=now, actor=actor.login, action="message_received", business_key=business_key,
                           details={"message": name})
    instance_id = uow.awaited.instance_waiting(name, business_key)
    if instance_id is not None:
        stored = load_case(uow, instance_id)
        return _deliver_into(uow, runtime, stored, inbox_id, name, payload, now, actor, received, idempotency_key)
    if starter is not None and owners is not None:
        uow.events.append([received])
        ref = start_case(uow, runtime, process_id=starter.process_id, business_key=business_key,
                         data={}, actor=actor, owners=owners, now=now)
        return MessageReceipt("started", ref.instance_id)
    kept = EventRecord(at=now, actor=actor.login, action="message_kept", business_key=business_key,
                       details={"message": name, "inbox_id": inbox_id})
    uow.events.append([received, kept])
    uow.commit()
    return MessageReceipt("kept", None)


def _deliver_into(
    uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, inbox_id: int, name: str,
    payload: Mapping[str, Any], now: datetime, actor: Actor, received: EventRecord,
    idempotency_key: str | None = None,
) -> MessageReceipt:
    try:
        return _run_delivery(uow, runtime, stored, inbox_id, name, payload, now, actor, received)
    except Exception as exc:
        if not parked_by(exc):
            raise
        raise _park(uow, runtime, stored, "message", exc, actor, now,
                    keep=(name, payload, idempotency_key)) from exc


def deliver_stored(
    uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, inbox_id: int, name: str,
    payload: Mapping[str, Any], now: datetime, actor: Actor, received: EventRecord,
) -> MessageReceipt:
    """Hand a message already kept (committed) in the inbox to its locked case, and commit.

    If the case fails on it, the case is parked as an incident and the message simply stays kept.
    """
    try:
        return _run_delivery(uow, runtime, stored, inbox_id, name, payload, now, actor, received)
    except Exception as exc:
        if not parked_by(exc):
            raise
        raise _park(uow, runtime, stored, "message", exc, actor, now) from exc


def _run_delivery(
    uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, inbox_id: int, name: str,
    payload: Mapping[str, Any], now: datetime, actor: Actor, received: EventRecord,
) -> MessageReceipt:
    run = resume(uow, runtime, stored)
    if not run.deliver_message(name, payload, now):  # projection was stale: keep it, lose nothing
        uow.events.append([received])
        uow.commit()
        return MessageReceipt("kept", None)
    uow.inbox.mark_delivered(inbox_id, stored.id, now)
    delivered = EventRecord(at=now, actor=actor.login, action="message_delivered", instance_id=stored.id,
                            business_key=stored.business_key, details={"message": name})
    events = [received, delivered] + drain_inbox(uow, run, stored.id, stored.business_key, actor.login, now)
    save_run(uow, runtime, run, stored, actor=actor, now=now, events=events)
    uow.commit()
    return MessageReceipt("delivered", stored.id)


def claim_task(uow: UnitOfWork, *, actor: Actor, task_id: str, now: datetime) -> None:
    """Take an open task of one's role so colleagues see it is being worked on."""
    task, _ = locked_task(uow, actor, task_id)
    if not uow.tasks.claim(task_id, actor.login):
        raise ConcurrencyConflict(f"task '{task.title}' was claimed by someone else first")
    uow.events.append([EventRecord(at=now, actor=actor.login, action="task_claimed", instance_id=task.instance_id,
                                   business_key=task.business_key, element_id=task.element_id)])
    uow.commit()


def release_task(uow: UnitOfWork, *, actor: Actor, task_id: str, now: datetime) -> None:
    """Give a claimed task back to the role's queue."""
    task, _ = locked_task(uow, actor, task_id)
    if not uow.tasks.release(task_id, actor.login):
        raise NotPermitted(f"task '{task.title}' is not claimed by {actor.login}")
    uow.events.append([EventRecord(at=now, actor=actor.login, action="task_released", instance_id=task.instance_id,
                                   business_key=task.business_key, element_id=task.element_id)])
    uow.commit()


def may_record_court_appeal(actor: Actor, case: StoredInstance) -> bool:
    """§10: whether this person records court appeals for the organisation that owns the case."""
    return bool(actor.roles_in(case.organisation_id) & COURT_APPEAL_ROLES)


def record_court_appeal(
    uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, court: str, filed_on: str,
    now: datetime, note: str = "",
) -> int:
    """§10: record that the recipient went to court over a case (a service case or a complaint)."""
    case = readable_case(uow, runtime, actor, instance_id)
    if not may_record_court_appeal(actor, case):
        raise NotPermitted("court appeals are recorded by the head, the reviewing official or the registrar")
    if not court.strip():
        raise InvalidInput("name the court the appeal was filed with")
    try:
        day = date.fromisoformat(filed_on)
    except ValueError:
        raise InvalidInput(f"'{filed_on}' is not a date like 2026-04-10") from None
    if day > now.date():
        raise InvalidInput(f"a court appeal cannot be filed in the future ({filed_on})")
    uow.events.append([EventRecord(
        at=now, actor=actor.login, action="court_appeal_recorded", instance_id=case.id,
        business_key=case.business_key, paragraph="§10",
        details={"court": court.strip(), "filed_on": day.isoformat(), "note": note.strip()},
    )])
    uow.commit()
    return case.id
