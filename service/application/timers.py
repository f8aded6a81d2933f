"""Firing due timers: one case per transaction, each timer exactly once, even with many workers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.domain.errors import DomainError
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from ._running import drain_inbox, load_case, resume, save_run
from .runtime import Runtime

#: How long a timer whose case failed to run waits before the next try.
TIMER_RETRY_DELAY = timedelta(minutes=5)


@dataclass
class TimerSweep:
    """What one sweep did: cases moved on by their timers, and cases that failed."""

    fired: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def fire_due_timers(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, now: datetime, limit: int = 1000,
    actor: str = "system:timer", retry_delay: timedelta = TIMER_RETRY_DELAY,
) -> TimerSweep:
    """Fire every timer due by ``now`` (at most ``limit`` cases), each case in its own transaction."""
    sweep = TimerSweep()
    while len(sweep.fired) + len(sweep.failed) < limit:
        with uow_factory() as uow:
            instance_id = uow.timers.claim_due_instance(now)
            if instance_id is None:
                break
            due = uow.timers.due_for_instance(instance_id, now)
            if not due:  # another worker fired it between our look and our lock
                continue
            if instance_id in sweep.fired:
                # Fired once in this sweep and still due: the engine did not consume the timer.
                # Park it with the reason instead of spinning on the same case.
                error = "a due timer did not fire; it is retried later"
            else:
                try:
                    _fire(uow, runtime, instance_id, now, actor)
                    sweep.fired.append(instance_id)
                    continue
                except DomainError as exc:
                    error = str(exc)
        _record_failure(uow_factory, instance_id, due, error, now + retry_delay, now, actor)
        sweep.failed[instance_id] = error
    return sweep


def fire_overdue(uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, instance_id: int, now: datetime,
                 actor: str = "system:timer") -> bool:
    """Fire one case's timers due by ``now`` before a message is judged against them (the worker may lag)."""
    with uow_factory() as uow:
        load_case(uow, instance_id)  # locked: a worker firing the same timer finishes first, or waits
        if not uow.timers.due_for_instance(instance_id, now):
            return False
        _fire(uow, runtime, instance_id, now, actor)
    return True


def _fire(uow: UnitOfWork, runtime: Runtime, instance_id: int, now: datetime, actor: str) -> None:
    stored = load_case(uow, instance_id)
    before = {t.element_id for t in uow.timers.for_instance(instance_id) if t.due_at <= now}
    run = resume(uow, runtime, stored)
    run.fire_timers(now)
    events = [
        EventRecord(at=now, actor=actor, action="timer_fired", instance_id=stored.id,
                    business_key=stored.business_key, element_id=element_id)
        for element_id in sorted(before)
    ]
    events += drain_inbox(uow, run, stored.id, stored.business_key, actor, now)
    save_run(uow, runtime, run, stored, actor=Actor.system(actor), now=now, events=events)
    uow.commit()


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
