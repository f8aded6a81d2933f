"""Firing due timers: one case per transaction, each timer exactly once, even with many workers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.domain.errors import ConcurrencyConflict, DomainError, Unavailable
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from ._running import drain_inbox, load_case, resume, save_run
from .incidents import (
    case_incident_error,
    describe_failure,
    is_shutdown,
    parked_by,
    record_incident,
    resolve_on_success,
)
from .runtime import Runtime

log = logging.getLogger(__name__)

#: How long a timer whose case failed to run waits before the next try; a case parked as an
#: incident waits twice as long after each further failure (up to ``MAX_INCIDENT_RETRY``).
TIMER_RETRY_DELAY = timedelta(minutes=5)


@dataclass
class TimerSweep:
    """What one sweep did: cases moved on by their timers, and cases that failed."""

    fired: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def fire_due_timers(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, now: datetime, limit: int = 1000,
    actor: str = "system:timer", retry_delay: timedelta = TIMER_RETRY_DELAY,
    stop: Callable[[], bool] | None = None, settle: timedelta = timedelta(0),
) -> TimerSweep:
    """Fire every timer due by ``now - settle`` (at most ``limit`` cases), each case in its own transaction.

    ``settle`` (the worker's HOMESCHOOL_TIMER_SETTLE_SECONDS) lets a message received just before a
    timer's due instant, and still on its way into the inbox, be kept first: the case then takes it
    before the timer (on time wins, §7-1).

    Whatever one case raises — a script's ``SystemExit`` included — rolls back that case only: it is
    parked as an incident, its timers are retried after a growing delay (``retry_delay``, doubling,
    see :func:`incident_retry_delay`), and the sweep goes on with the other cases. ``stop`` is asked
    between cases (the worker's shutdown flag; given, a ``KeyboardInterrupt`` is contained too).
    """
    sweep = TimerSweep()
    cutoff = now - settle
    while len(sweep.fired) + len(sweep.failed) < limit and not (stop is not None and stop()):
        claimed: tuple[int, list[int]] | None = None
        try:
            with uow_factory() as uow:
                instance_id = uow.timers.claim_due_instance(cutoff)
                if instance_id is None:
                    break
                due = uow.timers.due_for_instance(instance_id, cutoff)
                if not due:  # another worker fired it between our look and our lock
                    continue
                claimed = (instance_id, due)
                if instance_id in sweep.failed:  # parking it did not take: leave it to the next sweep
                    break
                if instance_id in sweep.fired:
                    # Fired once in this sweep and still due: the engine did not consume the timer.
                    # Park it with the reason instead of spinning on the same case.
                    error = "a due timer did not fire; it is retried later"
                else:
                    _fire(uow, runtime, instance_id, now, actor)
                    sweep.fired.append(instance_id)
                    continue
        except (ConcurrencyConflict, Unavailable) as exc:  # the database's doing, not the case's
            if claimed is None:
                raise
            instance_id, due = claimed
            error = str(exc)
        except BaseException as exc:  # noqa: BLE001 — anything a diagram raises parks its case only
            if claimed is None or is_shutdown(exc, signals_handled=stop is not None):
                raise
            instance_id, due = claimed
            sweep.failed[instance_id] = _park(uow_factory, runtime, instance_id, due, exc, now, actor, retry_delay)
            continue
        _record_failure(uow_factory, instance_id, due, error, now + retry_delay, now, actor)
        sweep.failed[instance_id] = error
    return sweep


def fire_overdue(uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, instance_id: int, now: datetime,
                 actor: str = "system:timer") -> bool:
    """Fire one case's timers due by ``now`` before a message is judged against them (the worker may lag).

    A case that fails on them is parked like in the sweep, and :class:`CaseHasIncident` says so.
    """
    due: list[int] = []
    try:
        with uow_factory() as uow:
            load_case(uow, instance_id)  # locked: a worker firing the same timer finishes first, or waits
            due = uow.timers.due_for_instance(instance_id, now)
            if not due:
                return False
            _fire(uow, runtime, instance_id, now, actor)
    except Exception as exc:
        if not due or not parked_by(exc):
            raise
        _park(uow_factory, runtime, instance_id, due, exc, now, actor, TIMER_RETRY_DELAY)
        with uow_factory() as uow:
            incident = uow.incidents.open_for(instance_id)
        if incident is None:
            raise
        raise case_incident_error(incident) from exc
    return True


def _fire(uow: UnitOfWork, runtime: Runtime, instance_id: int, now: datetime, actor: str) -> None:
    stored = load_case(uow, instance_id)
    run = resume(uow, runtime, stored)
    # On time wins: a message received before a timer's due instant is taken first (§7-1: a reply
    # received before the 24 hours ran out is honoured even if the timer is processed first).
    due = [t for t in run.pending_timers() if t.due_at <= now]
    early = drain_inbox(uow, run, stored.id, stored.business_key, actor, now,
                        received_before=due[0].due_at) if due else []
    before = {t.element_id for t in run.pending_timers() if t.due_at <= now}
    run.fire_timers(now)
    events = [
        EventRecord(at=now, actor=actor, action="timer_fired", instance_id=stored.id,
                    business_key=stored.business_key, element_id=element_id)
        for element_id in sorted(before)
    ]
    events = early + events + drain_inbox(uow, run, stored.id, stored.business_key, actor, now)
    save_run(uow, runtime, run, stored, actor=Actor.system(actor), now=now, events=events)
    took_message = any(e.action == "message_delivered" for e in events)
    resolve_on_success(uow, stored.id, actor=actor, now=now, kinds=("timer", "message") if took_message else ("timer",))
    uow.commit()


def _park(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, instance_id: int, timer_ids: list[int],
    exc: BaseException, now: datetime, actor: str, first_retry: timedelta,
) -> str:
    """Record the case's incident and postpone its timers to the incident's next try; returns the error."""
    failure = describe_failure(exc, runtime, _diagram_of(uow_factory, instance_id))
    log.warning("case %s parked as an incident: %s", instance_id, failure.error)
    try:
        record_incident(uow_factory, instance_id=instance_id, kind="timer", failure=failure, now=now, actor=actor,
                        retry_first=first_retry, timer_ids=timer_ids)
    except DomainError:  # the incident could not be stored (the database is busy): keep the old backoff
        _record_failure(uow_factory, instance_id, timer_ids, failure.error, now + first_retry, now, actor)
    return failure.error


def _diagram_of(uow_factory: Callable[[], UnitOfWork], instance_id: int) -> str | None:
    """The diagram version a case runs on (to name the failed element), if it can be read."""
    try:
        with uow_factory() as uow:
            stored = uow.instances.get(instance_id)
    except DomainError:
        return None
    return stored.diagram_hash if stored else None


def _record_failure(
    uow_factory: Callable[[], UnitOfWork], instance_id: int, timer_ids: list[int], error: str,
    retry_at: datetime, now: datetime, actor: str,
) -> None:
    """Keep the timers (nothing is lost), try again later, and tell operators why."""
    with uow_factory() as uow:
        uow.timers.postpone(timer_ids, retry_at, error)
        uow.events.append([EventRecord(at=now, actor=actor, action="timer_failed", instance_id=instance_id,
                                       details={"error": error[:500], "retry_at": retry_at.isoformat()})])
        uow.commit()
