"""Completion racing a claim or a release on PostgreSQL: no deadlock reaches the caller, only the claimant completes.

Every use case that touches a task locks the task's case first, then the task, and reads the
assignee under those locks; a tie the database still breaks is retried (``with_retry``) and else
answered as a conflict. SQLite runs one writer at a time, so the race means nothing there.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from service.application.cases import claim_task, complete_task, release_task, start_case
from service.application.queries import case_view
from service.application.retry import with_retry
from service.bootstrap import Services
from service.domain.errors import ConcurrencyConflict, NotPermitted, RetryableConflict, TaskNotReady
from service.domain.staff import Actor

from .support import SYSTEM, at, owners, person, pg_url

needs_postgresql = pytest.mark.skipif(pg_url() is None,
                                      reason="row locks and deadlocks are PostgreSQL's (SQLite queues writers)")

NOW = at("2026-03-20T11:00+05:00")
PAIRS = 50
#: What a racing caller may be told: someone else was first, or the task is not theirs.
EXPECTED = (ConcurrencyConflict, NotPermitted, TaskNotReady)


def _tasks(services: Services, count: int, prefix: str) -> list[tuple[int, str]]:
    """``count`` cases, each waiting on one open clerk task."""
    found = []
    for n in range(count):
        with services.uow() as uow:
            ref = start_case(uow, services.runtime, process_id="intake_demo", business_key=f"{prefix}-{n}",
                             data={"received_at": NOW.isoformat()}, actor=SYSTEM, owners=owners(services), now=NOW)
        with services.uow(write=False) as uow:
            [task] = uow.tasks.for_instance(ref.instance_id)
        found.append((ref.instance_id, task.task_id))
    return found


def _race(first: Callable[[], object], second: Callable[[], object]) -> tuple[object, object]:
    """Run both at once (a barrier releases them together); each returns its result or its exception."""
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(slot: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[slot] = call()
        except Exception as exc:  # noqa: BLE001 - every exception is inspected by the test
            results[slot] = exc

    threads = [threading.Thread(target=run, args=(slot, call)) for slot, call in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results[0], results[1]


def _unexpected(*results: object) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, EXPECTED)]


def _completer(services: Services, member: Actor, task_id: str) -> Callable[[], object]:
    return lambda: with_retry(services.uow, lambda uow: complete_task(
        uow, services.runtime, actor=member, task_id=task_id, data={"package_complete": True}, now=NOW))


def _claimer(services: Services, member: Actor, task_id: str) -> Callable[[], object]:
    return lambda: with_retry(services.uow, lambda uow: claim_task(uow, actor=member, task_id=task_id, now=NOW))


def _releaser(services: Services, member: Actor, task_id: str) -> Callable[[], object]:
    later = NOW + timedelta(seconds=1)
    return lambda: with_retry(services.uow, lambda uow: release_task(uow, actor=member, task_id=task_id, now=later))


def _completed_by(services: Services, instance_id: int) -> list[str]:
    with services.uow(write=False) as uow:
        history = case_view(uow, services.runtime, actor=SYSTEM, instance_id=instance_id).history
    return [e.actor for e in history if e.action == "task_completed"]


@needs_postgresql
def test_completion_racing_a_claim_never_deadlocks_and_never_passes_the_claimant(services: Services) -> None:
    alice = person(services, "office_clerk", login="alice")
    bob = person(services, "office_clerk", login="bob")
    outcomes: Counter[str] = Counter()
    for instance_id, task_id in _tasks(services, PAIRS, "CLAIM"):
        claimed, completed = _race(
            _claimer(services, alice, task_id),
            _completer(services, bob, task_id),
        )
        assert not _unexpected(claimed, completed), (claimed, completed)
        by = _completed_by(services, instance_id)
        if not isinstance(claimed, BaseException):  # alice holds it: bob must not have completed it
            assert by == [] and isinstance(completed, NotPermitted), (claimed, completed, by)
        else:  # bob completed it first; alice's claim found it gone
            assert by == ["bob"] and isinstance(claimed, TaskNotReady), (claimed, completed, by)
        outcomes["claim first" if by == [] else "completion first"] += 1
    assert sum(outcomes.values()) == PAIRS
    print(f"claim vs completion, {PAIRS} pairs: {dict(outcomes)}")


@needs_postgresql
def test_completion_racing_a_release_never_deadlocks_and_never_passes_the_claimant(services: Services) -> None:
    alice = person(services, "office_clerk", login="alice")
    bob = person(services, "office_clerk", login="bob")
    outcomes: Counter[str] = Counter()
    for instance_id, task_id in _tasks(services, PAIRS, "RELEASE"):
        with services.uow() as uow:
            claim_task(uow, actor=alice, task_id=task_id, now=NOW)
        released, completed = _race(
            _releaser(services, alice, task_id),
            _completer(services, bob, task_id),
        )
        assert not _unexpected(released, completed), (released, completed)
        assert not isinstance(released, BaseException), released  # alice's release always stands
        by = _completed_by(services, instance_id)
        if isinstance(completed, BaseException):  # bob came while alice still held it
            assert isinstance(completed, NotPermitted) and by == [], (completed, by)
        else:  # bob completed only after alice gave the task back
            assert by == ["bob"]
            with services.uow(write=False) as uow:
                actions = [e.action for e in case_view(uow, services.runtime, actor=SYSTEM,
                                                       instance_id=instance_id).history]
            assert actions.index("task_released") < actions.index("task_completed"), actions
        outcomes["completed after release" if by else "refused while claimed"] += 1
    assert sum(outcomes.values()) == PAIRS
    print(f"release vs completion, {PAIRS} pairs: {dict(outcomes)}")


class _FakeUnit:
    """Stands in for a unit of work: with_retry only opens and closes it."""

    def __enter__(self) -> _FakeUnit:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_broken_tie_is_retried_and_then_answered_as_a_conflict() -> None:
    calls: list[int] = []

    def flaky(_uow: object) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryableConflict("deadlock detected")
        return "done"

    assert with_retry(_FakeUnit, flaky, pause=0.001) == "done"  # type: ignore[arg-type]
    assert len(calls) == 3

    def always(_uow: object) -> str:
        calls.append(1)
        raise RetryableConflict("deadlock detected")

    calls.clear()
    with pytest.raises(ConcurrencyConflict, match="gave up after 3 attempts") as caught:
        with_retry(_FakeUnit, always, pause=0.001)  # type: ignore[arg-type]
    assert type(caught.value) is ConcurrencyConflict and len(calls) == 3
