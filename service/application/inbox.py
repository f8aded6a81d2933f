"""Delivering kept messages whose case has become ready for them (the worker's safety net)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from ._running import drain_inbox, load_case, resume, save_run
from .runtime import Runtime


def deliver_kept_messages(
    uow_factory: Callable[[], UnitOfWork], runtime: Runtime, *, now: datetime, limit: int = 100,
    actor: str = "system:inbox",
) -> int:
    """Deliver inbox messages to cases now waiting for them; returns how many cases moved on."""
    with uow_factory() as uow:
        pairs = uow.inbox.deliverable(limit)
    moved = 0
    for instance_id in dict.fromkeys(case for _, case in pairs):
        with uow_factory() as uow:
            stored = load_case(uow, instance_id)
            run = resume(uow, runtime, stored)
            events = drain_inbox(uow, run, stored.id, stored.business_key, actor, now)
            if not events:
                continue
            save_run(uow, runtime, run, stored, actor=Actor.system(actor), now=now, events=events)
            uow.commit()
            moved += 1
    return moved
