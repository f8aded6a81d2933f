"""The small intake diagram end to end through the application services, state saved and
reloaded between every step (each use case is its own transaction on a fresh engine run)."""

from __future__ import annotations

from service.application.cases import complete_task, deliver_message, start_case
from service.application.queries import case_view, list_tasks
from service.application.timers import fire_due_timers
from service.bootstrap import Services

from .support import SYSTEM, at, owners, person

RECEIVED = at("2026-03-20T17:00+05:00")  # Friday before Nauryz
DEADLINE = at("2026-03-27T18:30+05:00")  # 2 working days: 26 and 27 March


def _start(services: Services, key: str = "APP-1") -> int:
    with services.uow() as uow:
        ref = start_case(uow, services.runtime, process_id="intake_demo", business_key=key,
                         data={"received_at": RECEIVED.isoformat()}, actor=SYSTEM, owners=owners(services),
                         now=RECEIVED)
    return ref.instance_id


def _only_task(services: Services, role: str):
    with services.uow(write=False) as uow:
        page = list_tasks(uow, services.runtime, actor=SYSTEM, role=role)
    assert page.total == 1, page
    return page.items[0]


def _complete(services: Services, role: str, data: dict, now=RECEIVED):
    task = _only_task(services, role)
    with services.uow() as uow:
        return complete_task(uow, services.runtime, task_id=task.task_id, data=data, actor=person(services, role,
                             login=role), now=now)


def test_happy_path_user_task_gateway_and_message(services: Services) -> None:
    case = _start(services)
    first = _only_task(services, "office_clerk")
    assert (first.element_id, first.business_key, first.due_at) == ("register_application", "APP-1", None)

    _complete(services, "office_clerk", {"package_complete": True})
    review = _only_task(services, "head")
    assert review.element_id == "review_by_head"
    assert review.due_at == DEADLINE  # the boundary timer's working-day deadline, shown on the task

    _complete(services, "head", {"decision": "ok"})
    with services.uow() as uow:
        receipt = deliver_message(uow, services.runtime, actor=SYSTEM, name="confirmation", business_key="APP-1",
                                  payload={"by": "head"}, now=RECEIVED)
    assert (receipt.outcome, receipt.instance_id) == ("delivered", case)

    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
    assert view is not None
    assert view.status == "completed"
    assert view.open_tasks == [] and view.timers == []
    actions = [e.action for e in view.history]
    assert actions[0] == "case_started" and actions[-1] == "case_completed"
    assert actions.count("task_completed") == 2
    completed = [e for e in view.history if e.action == "task_completed"]
    assert completed[0].paragraph == "§4" and completed[0].actor == "office_clerk"


def test_gateway_default_flow_refuses_and_queues_portal_message(services: Services) -> None:
    case = _start(services)
    _complete(services, "office_clerk", {"package_complete": False, "missing_documents": ["VKK conclusion"]})
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
    assert view.status == "completed"
    assert [(o.channel, o.message_name, o.payload) for o in view.outbox if o.channel != "monitoring"] == [
        ("portal_cabinet", "portal_cabinet.refusal", {"reasons": ["VKK conclusion"]})
    ]
    assert any(e.action == "step" and e.paragraph == "§4" and e.element_id == "prepare_refusal"
               for e in view.history)


def test_working_day_timer_fires_only_after_its_deadline(services: Services) -> None:
    case = _start(services)
    _complete(services, "office_clerk", {"package_complete": True})

    sweep = fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-27T18:29+05:00"))
    assert sweep.fired == [] and sweep.failed == {}
    assert _only_task(services, "head").element_id == "review_by_head"

    sweep = fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-27T18:31+05:00"))
    assert sweep.fired == [case]
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
        assert list_tasks(uow, services.runtime, actor=SYSTEM, role="head").total == 0
    assert view.status == "completed" and view.timers == []
    assert [e.element_id for e in view.history if e.action == "timer_fired"] == ["review_deadline"]

    again = fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-30T10:00+05:00"))
    assert again.fired == []  # fired exactly once


def test_early_message_waits_in_inbox_until_catch_event_is_ready(services: Services) -> None:
    case = _start(services)
    with services.uow() as uow:
        early = deliver_message(uow, services.runtime, actor=SYSTEM, name="confirmation", business_key="APP-1",
                                payload={"by": "portal"}, now=RECEIVED, idempotency_key="sms-1")
    assert early.outcome == "kept"
    with services.uow() as uow:
        again = deliver_message(uow, services.runtime, actor=SYSTEM, name="confirmation", business_key="APP-1",
                                payload={"by": "portal"}, now=RECEIVED, idempotency_key="sms-1")
    assert again.outcome == "duplicate"

    _complete(services, "office_clerk", {"package_complete": True})
    with services.uow() as uow:
        assert uow.inbox.count_pending() == 1  # not yet: the head's review comes first
    _complete(services, "head", {})
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
        assert uow.inbox.count_pending() == 0
    assert view.status == "completed"
    delivered = [e for e in view.history if e.action == "message_delivered"]
    assert delivered and delivered[0].details["from_inbox"] is True


def test_message_for_unknown_key_is_kept_not_dropped(services: Services) -> None:
    _start(services, "APP-1")
    with services.uow() as uow:
        receipt = deliver_message(uow, services.runtime, actor=SYSTEM, name="confirmation", business_key="APP-404",
                                  payload={"by": "x"}, now=RECEIVED)
    assert receipt.outcome == "kept"
    with services.uow(write=False) as uow:
        assert uow.inbox.count_pending() == 1


def test_a_case_that_fails_on_its_timer_keeps_the_timer_and_is_retried(services: Services, monkeypatch) -> None:
    from service.domain.errors import ScriptError
    from service.engine.runtime import ProcessRun

    case = _start(services)
    _complete(services, "office_clerk", {"package_complete": True})
    real_fire = ProcessRun.fire_timers

    def broken(self, now):
        raise ScriptError("NameError: name 'x' is not defined", element_id="escalate")

    monkeypatch.setattr(ProcessRun, "fire_timers", broken)
    after = at("2026-03-27T18:31+05:00")
    sweep = fire_due_timers(services.write_uow, services.runtime, now=after)
    assert sweep.fired == [] and "escalate" in sweep.failed[case]
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
        [failure] = [e for e in view.history if e.action == "timer_failed"]
    assert view.status == "running" and [t.element_id for t in view.timers] == ["review_deadline"]
    assert "escalate" in failure.details["error"]

    monkeypatch.setattr(ProcessRun, "fire_timers", real_fire)
    assert fire_due_timers(services.write_uow, services.runtime, now=after).fired == []  # waits for the retry
    retried = fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-27T18:37+05:00"))
    assert retried.fired == [case]


def test_every_stage_change_is_reported_to_monitoring(services: Services) -> None:
    """§8: each change of what the case waits on (or its end) becomes one monitoring entry."""
    case = _start(services)
    _complete(services, "office_clerk", {"package_complete": True})
    _complete(services, "head", {})
    with services.uow() as uow:
        deliver_message(uow, services.runtime, actor=SYSTEM, name="confirmation", business_key="APP-1",
                        payload={"by": "x"}, now=RECEIVED)
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
    entries = [o.payload for o in reversed(view.outbox) if o.channel == "monitoring"]
    assert [(e["stage"], e["status"]) for e in entries] == [
        ("check_request", "running"), ("class_and_language", "running"),
        ("in_progress", "running"),  # no one has a task; the message wait names no stage of its own
        ("provided", "completed"),
    ]
    assert entries[1]["stage_name_ru"] == "Руководитель определяет класс и язык обучения"
    assert entries[1]["business_key"] == "APP-1"
    logged = [e for e in view.history if e.action == "stage_changed"]
    assert [e.paragraph for e in logged] == ["§8"] * 4
