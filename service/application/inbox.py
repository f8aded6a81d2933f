"""Delivering kept messages whose case has become ready for them (the worker's safety net)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from service.domain.errors import ConcurrencyConflict, Unavailable
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from ._running import drain_inbox, load_case, resume, save_run
from .incidents import FIRST_INCIDENT_RETRY, describe_failure, is_shutdown, record_incident, resolve_on_success
from .runtime import Runtime

log = logging.getLogger(__name__)


def deliver_kept_messages(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, now: datetime, limit: int = 100,
    actor: str = "system:inbox", retry_first: timedelta = FIRST_INCIDENT_RETRY,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Deliver inbox messages to cases now waiting for them; returns how many cases moved on.

    A case that fails on a message is parked as an incident (its messages stay kept) and is not
    tried again before the incident's next try; the other cases go on. ``stop`` is asked between
    cases (the worker's shutdown flag; given, a ``KeyboardInterrupt`` is contained too).
    """
    with uow_factory() as uow:
        pairs = uow.inbox.deliverable(limit, now=now)
    moved = 0
    for instance_id in dict.fromkeys(case for _, case in pairs):
        if stop is not None and stop():
            break
        diagram_hash: str | None = None
        try:
            with uow_factory() as uow:
                stored = load_case(uow, instance_id)
                diagram_hash = stored.diagram_hash
                run = resume(uow, runtime, stored)
                events = drain_inbox(uow, run, stored.id, stored.business_key, actor, now)
                if not events:
                    continue
                save_run(uow, runtime, run, stored, actor=Actor.system(actor), now=now, events=events)
                resolve_on_success(uow, stored.id, actor=actor, now=now, kinds=("message",))
                uow.commit()
                moved += 1
        except (ConcurrencyConflict, Unavailable) as exc:  # the database's doing: the next pass tries again
            log.info("kept messages of case %s not delivered this pass: %s", instance_id, exc)
        except BaseException as exc:  # noqa: BLE001 — a message that breaks one case parks that case only
            if is_shutdown(exc, signals_handled=stop is not None):
                raise
            failure = describe_failure(exc, runtime, diagram_hash)
            log.warning("case %s parked as an incident while taking a kept message: %s", instance_id, failure.error)
            record_incident(uow_factory, instance_id=instance_id, kind="message", failure=failure, now=now,
                            actor=actor, retry_first=retry_first)
    return moved
