"""Two writers racing on one case: exactly one wins, the other gets a clear error, nothing half-applied."""

from __future__ import annotations

import threading

import pytest

from service.application.cases import complete_task, start_case
from service.application.queries import case_view, list_tasks
from service.bootstrap import Services
from service.domain.errors import ConcurrencyConflict, DomainError, TaskNotReady
from service.domain.model import OpenTask
from service.domain.staff import Actor

from .support import SYSTEM, at, owners, person

NOW = at("2026-03-20T11:00+05:00")


def _clerk(services: Services, login: str) -> Actor:
    return person(services, "office_clerk", login=login)


def _case_with_clerk_task(services: Services) -> tuple[int, str]:
    with services.uow() as uow:
        ref = start_case(uow, services.runtime, process_id="intake_demo", business_key="RACE-1",
                         data={"received_at": NOW.isoformat()}, actor=SYSTEM, owners=owners(services),
                         now=NOW)
    with services.uow(write=False) as uow:
        task = list_tasks(uow, services.runtime, actor=SYSTEM, role="office_clerk").items[0]
    return ref.instance_id, task.task_id


def test_two_clerks_completing_one_task_at_once(services: Services) -> None:
    case, task_id = _case_with_clerk_task(services)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def submit(who: str) -> None:
        clerk = _clerk(services, who)
        barrier.wait()
        try:
            with services.uow() as uow:
                outcomes[who] = complete_task(uow, services.runtime, task_id=task_id, actor=clerk, now=NOW,
                                              data={"package_complete": True, "note": who})
        except DomainError as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=submit, args=(who,)) for who in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    errors = [o for o in outcomes.values() if isinstance(o, Exception)]
    wins = [o for o in outcomes.values() if not isinstance(o, Exception)]
    assert len(wins) == 1 and len(errors) == 1, outcomes
    assert isinstance(errors[0], TaskNotReady | ConcurrencyConflict)
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
    assert view.version == 2  # started at 1, changed exactly once
    assert [e.actor for e in view.history if e.action == "task_completed"] == [
        next(k for k, v in outcomes.items() if not isinstance(v, Exception))
    ]


def test_stale_form_is_refused_with_a_conflict(services: Services) -> None:
    case, task_id = _case_with_clerk_task(services)
    with services.uow() as uow:
        complete_task(uow, services.runtime, task_id=task_id, actor=_clerk(services, "a"), now=NOW,
                      data={"package_complete": True}, expected_version=1)
    with services.uow(write=False) as uow:
        head_task = list_tasks(uow, services.runtime, actor=SYSTEM, role="head").items[0]
    with services.uow() as uow, pytest.raises(ConcurrencyConflict, match="changed since the form was opened"):
        complete_task(uow, services.runtime, task_id=head_task.task_id, actor=person(services, "head", login="h"),
                      now=NOW, data={}, expected_version=1)
    with services.uow(write=False) as uow:
        assert case_view(uow, services.runtime, actor=SYSTEM, instance_id=case).version == 2
        assert list_tasks(uow, services.runtime, actor=SYSTEM, role="head").total == 1


def test_lost_update_is_detected_and_rolls_back_everything(services: Services) -> None:
    """A save against an old version raises, and the projections written before it vanish too."""
    case, _ = _case_with_clerk_task(services)
    with services.uow() as uow:
        stored = uow.tasks.for_instance(case)
        open_tasks = [OpenTask(t.task_id, t.element_id, t.title, t.lane, t.due_at) for t in stored]
        uow.tasks.apply_changes(case, "intake_demo", "RACE-1", open_tasks, [], NOW)  # written first …
        with pytest.raises(ConcurrencyConflict, match="changed by someone else"):
            uow.instances.save(case, expected_version=7, state="{}", status="running",
                               serializer_version="1.5", now=NOW)  # … then the stale save fails
    with services.uow(write=False) as uow:
        assert list_tasks(uow, services.runtime, actor=SYSTEM, role="office_clerk").total == 1  # nothing half-applied
        assert uow.instances.get(case).version == 1


def test_second_completion_of_a_finished_task_is_refused(services: Services) -> None:
    _, task_id = _case_with_clerk_task(services)
    with services.uow() as uow:
        complete_task(uow, services.runtime, task_id=task_id, actor=_clerk(services, "a"), now=NOW,
                      data={"package_complete": True})
    with services.uow() as uow, pytest.raises(TaskNotReady, match="no longer open"):
        complete_task(uow, services.runtime, task_id=task_id, actor=_clerk(services, "a"), now=NOW,
                      data={"package_complete": True})
