"""Incidents: one failing case is parked and retried with backoff; the sweep, the inbox, the outbox
and the worker carry on with every other case."""

from __future__ import annotations

import dataclasses
import shutil
import signal
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.application.cases import complete_task, deliver_message, start_case
from service.application.inbox import deliver_kept_messages
from service.application.incidents import (
    FIRST_INCIDENT_RETRY,
    MAX_INCIDENT_RETRY,
    incident_retry_delay,
    list_incidents,
)
from service.application.outbox import deliver_outbox
from service.application.timers import TimerSweep, fire_due_timers, fire_overdue
from service.bootstrap import Services
from service.cli import main
from service.config import Settings
from service.domain.errors import (
    CaseHasIncident,
    ConcurrencyConflict,
    InvalidInput,
    NotPermitted,
    RetryableConflict,
    ScriptError,
    TaskNotReady,
    Unavailable,
)
from service.domain.model import OutboxItem, OutgoingMessage, Snapshot
from service.engine.library import DiagramLibrary
from service.engine.runtime import ProcessRun
from service.engine.scripting import build_helpers
from service.web import create_app

from .support import DIAGRAMS, SYSTEM, at, build_test_services, owners, person

RECEIVED = at("2026-03-20T17:00+05:00")


def _intake_case(services: Services, key: str) -> int:
    with services.uow() as uow:
        ref = start_case(uow, services.runtime, process_id="intake_demo", business_key=key,
                         data={"received_at": RECEIVED.isoformat()}, actor=SYSTEM, owners=owners(services),
                         now=RECEIVED)
    return ref.instance_id


# --- the repository --------------------------------------------------------------------------


def test_recording_twice_adds_a_try_to_the_one_open_incident(services: Services) -> None:
    case = _intake_case(services, "INC-1")
    later = RECEIVED + timedelta(minutes=5)
    with services.uow() as uow:
        first = uow.incidents.record(instance_id=case, kind="timer", error="boom", element_id="a",
                                     element_name="A", now=RECEIVED, next_try_at=later)
        second = uow.incidents.record(instance_id=case, kind="timer", error="boom again", element_id="b",
                                      element_name=None, now=later)
        uow.commit()
    assert second.id == first.id and second.tries == 2 and second.open
    assert (second.first_at, second.last_at, second.error, second.element_id) == (RECEIVED, later, "boom again", "b")
    assert (second.business_key, second.process_id) == ("INC-1", "intake_demo")
    assert second.diagram_version is not None and len(second.diagram_version) == 64
    with services.uow(write=False) as uow:
        assert uow.incidents.open_for(case) == second
        assert uow.incidents.count_open() == 1


def test_a_resolved_incident_leaves_room_for_a_new_one(services: Services) -> None:
    case = _intake_case(services, "INC-2")
    other = _intake_case(services, "INC-3")
    with services.uow() as uow:
        first = uow.incidents.record(instance_id=case, kind="task", error="x", element_id="e1",
                                     element_name=None, now=RECEIVED)
        uow.incidents.record(instance_id=other, kind="timer", error="y", element_id="e2",
                             element_name=None, now=RECEIVED)
        uow.incidents.resolve(first.id, by="admin", resolution="fixed by hand", now=RECEIVED + timedelta(hours=1))
        again = uow.incidents.record(instance_id=case, kind="message", error="z", element_id="e1",
                                     element_name=None, now=RECEIVED + timedelta(hours=2))
        uow.commit()
    assert again.id != first.id and again.tries == 1
    with services.uow(write=False) as uow:
        resolved = uow.incidents.listing(status="resolved")
        assert [(i.id, i.resolved_by, i.resolution) for i in resolved] == [(first.id, "admin", "fixed by hand")]
        assert not resolved[0].open
        assert {i.id for i in uow.incidents.listing()} == {again.id, uow.incidents.open_for(other).id}
        assert len(uow.incidents.listing(status="all")) == 3
        assert [i.kind for i in uow.incidents.listing(element_id="e2")] == ["timer"]
        assert [i.kind for i in uow.incidents.listing(kind="message")] == ["message"]
        assert uow.incidents.listing(process_id="nothing") == []
        assert uow.incidents.count_open() == 2


def test_the_database_refuses_two_open_incidents_for_one_case(services: Services) -> None:
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from service.persistence.models import IncidentRow

    case = _intake_case(services, "INC-4")
    row = {"instance_id": case, "kind": "timer", "error": "e", "first_at": RECEIVED, "last_at": RECEIVED,
           "tries": 1}
    with services.uow() as uow, pytest.raises(IntegrityError):
        uow.session.execute(insert(IncidentRow), [row, row])


# --- one poison case among healthy ones ---------------------------------------------------------

POISON = Path(__file__).parent / "poison_diagrams"
WAKE = RECEIVED + timedelta(hours=1)
SWEEP = RECEIVED + timedelta(hours=2)
HEALTHY_CASES, OUTBOX_MESSAGES = 20, 41

#: Each poison kind of issue 11: its diagram and the element the incident must name.
POISON_KINDS = {
    "system_exit": ("poison_system_exit", "poison"),
    "keyboard_interrupt": ("poison_keyboard_interrupt", "poison"),
    "not_storable": ("poison_not_storable", "poison"),
    "far_timer": ("poison_far_timer", "far_wait"),
    "infinity": ("poison_infinity", "poison"),
    "c_bomb": ("poison_c_bomb", "poison"),
}


class Recording:
    """An outbox transport that takes every message and remembers it."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, item: OutboxItem) -> str:
        self.sent.append(item.id)
        return "test:recorded"


@pytest.fixture
def poisoned(settings: Settings) -> Iterator[Services]:
    """The product on the test diagrams plus the poison diagrams."""
    lib = DiagramLibrary()
    lib.load_files(sorted(DIAGRAMS.glob("*.bpmn")) + sorted(POISON.glob("*.bpmn")), base=DIAGRAMS.parent)
    built = build_test_services(settings, lib)
    yield built
    built.database.dispose()


def _start(services: Services, process_id: str, key: str) -> int:
    with services.uow() as uow:
        ref = start_case(uow, services.runtime, process_id=process_id, business_key=key,
                         data={"wake_at": WAKE.isoformat()}, actor=SYSTEM, owners=owners(services), now=RECEIVED)
    assert ref.status == "running"
    return ref.instance_id


def _neighbours(services: Services) -> tuple[list[int], list[int]]:
    """20 healthy cases with a due timer and 41 outbox messages waiting, beside the poison case."""
    healthy = [_start(services, "timer_healthy", f"OK-{n}") for n in range(HEALTHY_CASES)]
    with services.uow() as uow:
        uow.outbox.add_many([{"channel": "portal_cabinet", "message_name": "portal_cabinet.note",
                              "idempotency_key": f"note-{n}", "instance_id": None, "business_key": f"OK-{n}",
                              "payload": {"n": n}} for n in range(OUTBOX_MESSAGES)], RECEIVED)
        uow.commit()
    with services.uow(write=False) as uow:
        waiting = [m.id for m in uow.outbox.listing() if m.message_name == "portal_cabinet.note"]
    assert len(waiting) == OUTBOX_MESSAGES
    return healthy, waiting


def _one_sweep(services: Services) -> tuple[TimerSweep, list[int]]:
    sweep = fire_due_timers(services.write_uow, services.runtime, now=SWEEP)
    transport = Recording()
    deliver_outbox(services.write_uow, {"portal_cabinet": transport, "monitoring": transport}, now=SWEEP,
                   batch=500)
    return sweep, transport.sent


@pytest.mark.parametrize("kind", sorted(POISON_KINDS))
def test_one_poison_case_is_parked_and_every_other_case_and_message_goes_on(poisoned: Services, kind: str) -> None:
    process_id, element = POISON_KINDS[kind]
    poison = _start(poisoned, process_id, "POISON-1")
    healthy, messages = _neighbours(poisoned)

    sweep, sent = _one_sweep(poisoned)  # returns normally: nothing the case raised escapes

    assert sorted(sweep.fired) == sorted(healthy)
    assert set(messages) <= set(sent)
    assert list(sweep.failed) == [poison]
    with poisoned.uow(write=False) as uow:
        incident = uow.incidents.open_for(poison)
        stored = uow.instances.get(poison)
        timers = uow.timers.due_for_instance(poison, SWEEP)
        pending = uow.timers.for_instance(poison)
        history = uow.events.for_instance(poison)
    assert incident is not None and incident.kind == "timer" and incident.tries == 1
    assert incident.element_id == element, incident.error
    assert element in incident.error
    assert incident.next_try_at == SWEEP + FIRST_INCIDENT_RETRY
    assert stored is not None and stored.status == "running"
    assert timers == [] and [t.element_id for t in pending] == ["wake"]  # kept, postponed to the next try
    assert "incident_recorded" in [e.action for e in history]


# --- a person's step that fails in the diagram ---------------------------------------------------


def _clerk_task(services: Services, case: int) -> str:
    with services.uow(write=False) as uow:
        (task,) = [t for t in uow.tasks.for_instance(case) if t.element_id == "register_application"]
    return task.task_id


def test_a_task_completion_failing_in_the_diagram_parks_the_case_and_says_so(services: Services) -> None:
    case = _intake_case(services, "TASK-1")
    task_id = _clerk_task(services, case)
    clerk = person(services, "office_clerk", login="clerk")
    with services.uow(write=False) as uow:
        before = uow.instances.get(case)
    # The gateway after the task reads 'package_complete', which this submission lacks: the
    # diagram's condition fails, which the clerk cannot fix.
    with services.uow() as uow, pytest.raises(CaseHasIncident) as raised:
        complete_task(uow, services.runtime, actor=clerk, task_id=task_id, data={}, now=RECEIVED)
    assert raised.value.instance_id == case and "administrators are told" in str(raised.value)
    with services.uow(write=False) as uow:
        incident = uow.incidents.open_for(case)
        after = uow.instances.get(case)
        tasks = [t.task_id for t in uow.tasks.for_instance(case)]
        actions = [e.action for e in uow.events.for_instance(case)]
    assert incident is not None and incident.id == raised.value.incident_id
    assert (incident.kind, incident.tries, incident.next_try_at) == ("task", 1, None)
    assert incident.element_id == "package_complete" and "package_complete" in incident.error
    assert incident.element_name == "Package complete?" and "intake_demo.bpmn" in incident.error
    assert after == before and tasks == [task_id]  # nothing of the attempt was saved
    assert "incident_recorded" in actions and "task_completed" not in actions


@pytest.mark.parametrize("error", [
    ConcurrencyConflict("someone else saved first"), RetryableConflict("deadlock"), Unavailable("disk full"),
    InvalidInput("a value the process cannot accept"), TaskNotReady("done already"), NotPermitted("not yours"),
])
def test_what_the_person_or_the_database_can_settle_is_not_an_incident(
    services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception,
) -> None:
    case = _intake_case(services, "TASK-2")
    task_id = _clerk_task(services, case)

    def failing(self: ProcessRun, task_id: str, data: object, now: object) -> None:
        raise error

    monkeypatch.setattr(ProcessRun, "complete_task", failing)
    with services.uow() as uow, pytest.raises(type(error)):
        complete_task(uow, services.runtime, actor=person(services, "office_clerk"), task_id=task_id,
                      data={"package_complete": True}, now=RECEIVED)
    with services.uow(write=False) as uow:
        assert uow.incidents.open_for(case) is None


@pytest.mark.parametrize("error", [TypeError("not JSON serializable"), OverflowError("date value out of range")])
def test_anything_unexpected_in_a_task_completion_parks_the_case(
    services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception,
) -> None:
    case = _intake_case(services, "TASK-3")
    task_id = _clerk_task(services, case)

    def failing(self: ProcessRun, task_id: str, data: object, now: object) -> None:
        raise error

    monkeypatch.setattr(ProcessRun, "complete_task", failing)
    with services.uow() as uow, pytest.raises(CaseHasIncident):
        complete_task(uow, services.runtime, actor=person(services, "office_clerk"), task_id=task_id,
                      data={"package_complete": True}, now=RECEIVED)
    with services.uow(write=False) as uow:
        incident = uow.incidents.open_for(case)
    assert incident is not None and str(error) in incident.error and type(error).__name__ in incident.error


@pytest.mark.parametrize(("kept", "phrase"), [(False, "Nothing was saved"), (True, "The message is kept")])
def test_a_parked_case_is_answered_409_case_incident_on_the_api_and_a_clear_page_on_the_web(
    services: Services, kept: bool, phrase: str,
) -> None:
    app = create_app(services.settings, services, TESTING=True)

    def parked() -> None:
        raise CaseHasIncident("case X has a problem", instance_id=1, incident_id=7, kept=kept)

    app.add_url_rule("/api/v1/test-parked", "api_parked", parked)
    app.add_url_rule("/test-parked", "page_parked", parked)
    client = app.test_client()
    answer = client.get("/api/v1/test-parked", headers={"Accept-Language": "en"})
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "case_incident" and phrase in answer.json["error"]["message"]
    assert "В этом деле возникла проблема" in client.get("/api/v1/test-parked").json["error"]["message"]
    page = client.get("/test-parked")  # the web speaks Russian until a person picks a language
    assert page.status_code == 409 and "text/html" in page.content_type
    assert "В этом деле возникла проблема" in page.get_data(as_text=True)


# --- retries, the inbox, the outbox ----------------------------------------------------------------


def test_a_parked_case_is_retried_with_backoff_and_resolved_when_a_retry_succeeds(
    poisoned: Services, monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = _start(poisoned, "timer_healthy", "RETRY-1")
    real_fire = ProcessRun.fire_timers

    def broken(self: ProcessRun, now: object) -> None:
        raise RuntimeError("the calendar service fell over")

    monkeypatch.setattr(ProcessRun, "fire_timers", broken)
    first = fire_due_timers(poisoned.write_uow, poisoned.runtime, now=SWEEP)
    assert list(first.failed) == [case]
    assert fire_due_timers(poisoned.write_uow, poisoned.runtime, now=SWEEP + timedelta(minutes=4)).failed == {}
    second_try = SWEEP + FIRST_INCIDENT_RETRY
    assert list(fire_due_timers(poisoned.write_uow, poisoned.runtime, now=second_try).failed) == [case]
    with poisoned.uow(write=False) as uow:
        incident = uow.incidents.open_for(case)
    assert incident is not None and incident.tries == 2 and incident.last_at == second_try
    assert incident.next_try_at == second_try + 2 * FIRST_INCIDENT_RETRY  # doubled

    monkeypatch.setattr(ProcessRun, "fire_timers", real_fire)
    assert fire_due_timers(poisoned.write_uow, poisoned.runtime, now=incident.next_try_at).fired == [case]
    with poisoned.uow(write=False) as uow:
        assert uow.incidents.open_for(case) is None
        (resolved,) = uow.incidents.for_instance(case)
        stored = uow.instances.get(case)
        actions = [e.action for e in uow.events.for_instance(case)]
    assert (resolved.resolution, resolved.resolved_by, resolved.resolved_at) == (
        "succeeded on retry", "system:timer", incident.next_try_at)
    assert stored is not None and stored.status == "completed"
    assert actions.count("incident_recorded") == 2 and "incident_resolved" in actions


def test_the_retry_delay_doubles_from_five_minutes_up_to_four_hours() -> None:
    assert [incident_retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (5, 10, 20)]
    assert incident_retry_delay(7) == MAX_INCIDENT_RETRY == timedelta(hours=4)
    assert incident_retry_delay(10_000) == MAX_INCIDENT_RETRY


def _confirmation_waiting(services: Services, key: str) -> int:
    """An intake case waiting for its 'confirmation' message (the clerk and the head have acted)."""
    case = _intake_case(services, key)
    with services.uow() as uow:
        complete_task(uow, services.runtime, actor=person(services, "office_clerk"),
                      task_id=_clerk_task(services, case), data={"package_complete": True}, now=RECEIVED)
    with services.uow(write=False) as uow:
        (review,) = uow.tasks.for_instance(case)
    with services.uow() as uow:
        complete_task(uow, services.runtime, actor=person(services, "head"), task_id=review.task_id, data={},
                      now=RECEIVED)
    with services.uow(write=False) as uow:
        assert uow.awaited.instance_waiting("confirmation", key) == case
    return case


def test_a_message_the_diagram_fails_on_is_kept_and_the_case_parked_until_its_retry(services: Services) -> None:
    case = _confirmation_waiting(services, "MSG-1")
    # The script after the catch event reads confirmation["by"], which this payload lacks.
    with services.uow() as uow, pytest.raises(CaseHasIncident) as raised:
        deliver_message(uow, services.runtime, actor=SYSTEM, name="confirmation", business_key="MSG-1",
                        payload={"note": "no signer"}, now=RECEIVED, idempotency_key="confirm-1")
    assert raised.value.kept
    with services.uow(write=False) as uow:
        incident = uow.incidents.open_for(case)
        kept = uow.inbox.pending_for(["confirmation"], "MSG-1")
        assert uow.inbox.seen("confirm-1")
    assert incident is not None and incident.kind == "message" and incident.element_id == "record_confirmation"
    assert incident.next_try_at == RECEIVED + FIRST_INCIDENT_RETRY
    assert [m.payload for m in kept] == [{"note": "no signer"}]

    # A healthy neighbour's kept message goes through in the same pass; the parked case waits.
    other = _confirmation_waiting(services, "MSG-2")
    with services.uow() as uow:
        uow.inbox.add("confirmation", "MSG-2", {"by": "parent"}, "confirm-2", RECEIVED)
        uow.commit()
    assert deliver_kept_messages(services.write_uow, services.runtime, now=RECEIVED + timedelta(minutes=1)) == 1
    retry_at = RECEIVED + FIRST_INCIDENT_RETRY
    assert deliver_kept_messages(services.write_uow, services.runtime, now=retry_at) == 0  # tried, failed again
    with services.uow(write=False) as uow:
        assert uow.instances.get(other).status == "completed"
        again = uow.incidents.open_for(case)
    assert again is not None and again.id == incident.id and again.tries == 2 and again.last_at == retry_at


class Exploding:
    """A transport whose send raises something no transport is meant to raise."""

    def __init__(self, bad: set[int]) -> None:
        self.bad = bad
        self.sent: list[int] = []

    def send(self, item: OutboxItem) -> str:
        if item.id in self.bad:
            raise ZeroDivisionError("the adapter divided by zero")
        self.sent.append(item.id)
        return "test:sent"


def test_an_outbox_message_whose_send_raises_anything_fails_alone(poisoned: Services) -> None:
    _, messages = _neighbours(poisoned)
    transport = Exploding({messages[3]})
    result = deliver_outbox(poisoned.write_uow, {"portal_cabinet": transport}, now=SWEEP, batch=500)
    assert list(result.failed) == [messages[3]] and "ZeroDivisionError" in result.failed[messages[3]]
    assert set(messages) - {messages[3]} <= set(result.delivered)
    with poisoned.uow(write=False) as uow:
        (failed,) = [m for m in uow.outbox.listing() if m.id == messages[3]]
    assert failed.delivered_at is None and failed.attempts == 1


# --- the worker and the command line ----------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, settings: Settings) -> Iterator[Callable[..., Result]]:
    """Run ``homeschool ARGS`` in-process on the test database, with the test and poison diagrams."""
    processes = tmp_path / "processes"
    processes.mkdir()
    for source in sorted(DIAGRAMS.glob("*.bpmn")) + sorted(POISON.glob("*.bpmn")):
        shutil.copy(source, processes / source.name)
    env = {"DATABASE_URL": settings.database_url, "HOMESCHOOL_INSTANCE_DIR": str(settings.instance_dir),
           "HOMESCHOOL_PROCESSES_DIR": str(processes), "HOMESCHOOL_FORMS_DIR": str(settings.forms_dir),
           "HOMESCHOOL_CALENDAR_OVERRIDES": str(settings.calendar_overrides),
           "HOMESCHOOL_OUTBOX_PORTAL_CABINET": f"spool:{tmp_path / 'spool'}",
           "HOMESCHOOL_OUTBOX_MONITORING": f"spool:{tmp_path / 'spool'}"}
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield lambda *args: CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.mark.parametrize("kind", ["system_exit", "c_bomb"])
def test_the_worker_survives_a_poison_case_and_does_the_rest_of_its_pass(
    poisoned: Services, cli: Callable[..., Result], kind: str,
) -> None:
    process_id, element = POISON_KINDS[kind]
    poison = _start(poisoned, process_id, "POISON-W")
    healthy = [_start(poisoned, "timer_healthy", f"OK-W{n}") for n in range(3)]
    with poisoned.uow() as uow:
        uow.outbox.add_many([{"channel": "portal_cabinet", "message_name": "portal_cabinet.note",
                              "idempotency_key": f"w-{n}", "instance_id": None, "business_key": None,
                              "payload": {"n": n}} for n in range(5)], RECEIVED)
        uow.commit()

    result = cli("worker", "--once")  # the real clock: every wake-up of 2026-03-20 is past

    assert result.exit_code == 0, result.output
    with poisoned.uow(write=False) as uow:
        assert [uow.instances.get(case).status for case in healthy] == ["completed"] * 3
        assert uow.outbox.listing(pending_only=True) == []
        incident = uow.incidents.open_for(poison)
    assert incident is not None and incident.element_id == element

    listed = cli("incidents", "list")
    assert listed.exit_code == 0
    (line,) = listed.stdout.splitlines()
    assert line.startswith(f"#{incident.id} open timer {process_id}/POISON-W case {poison} at {element}")
    assert "tries 1" in line
    assert cli("incidents", "list", "--process", "timer_healthy").stdout == ""
    assert cli("incidents", "list", "--element", element).stdout.splitlines() == [line]


def test_incidents_list_all_shows_resolved_ones_too(poisoned: Services, cli: Callable[..., Result]) -> None:
    case = _start(poisoned, "timer_healthy", "DONE-1")
    with poisoned.uow() as uow:
        incident = uow.incidents.record(instance_id=case, kind="repair", error="first line\nsecond line",
                                        element_id="wake", element_name="Wake-up time", now=RECEIVED)
        uow.incidents.resolve(incident.id, by="admin", resolution="moved to version 2", now=SWEEP)
        uow.commit()
    assert cli("incidents", "list").stdout == ""
    (line,) = cli("incidents", "list", "--all").stdout.splitlines()
    assert "resolved by admin (moved to version 2)" in line and "at wake (Wake-up time)" in line
    assert line.endswith(": first line")


# --- who may read incidents -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["administrator", "analyst"])
def test_administrators_and_analysts_read_incidents(services: Services, role: str) -> None:
    case = _intake_case(services, "READ-1")
    with services.uow() as uow:
        uow.incidents.record(instance_id=case, kind="timer", error="e", element_id="x", element_name=None,
                             now=RECEIVED)
        uow.commit()
    with services.uow(write=False) as uow:
        assert [i.instance_id for i in list_incidents(uow, actor=person(services, role))] == [case]


@pytest.mark.parametrize("actor", ["office_clerk", "head", "legal", "system"])
def test_others_may_not_read_incidents(services: Services, actor: str) -> None:
    who = SYSTEM if actor == "system" else person(services, actor)
    with services.uow(write=False) as uow, pytest.raises(NotPermitted):
        list_incidents(uow, actor=who)


def test_firing_a_lagging_timer_before_a_message_parks_a_failing_case_and_says_so(poisoned: Services) -> None:
    case = _start(poisoned, "poison_c_bomb", "LAG-1")
    with pytest.raises(CaseHasIncident) as raised:
        fire_overdue(poisoned.write_uow, poisoned.runtime, instance_id=case, now=SWEEP)
    with poisoned.uow(write=False) as uow:
        incident = uow.incidents.open_for(case)
        assert uow.timers.due_for_instance(case, SWEEP) == []  # postponed to the incident's next try
    assert incident is not None and incident.id == raised.value.incident_id and incident.element_id == "poison"


def test_the_sweep_stops_between_cases_when_the_worker_is_told_to_stop(poisoned: Services) -> None:
    cases = [_start(poisoned, "timer_healthy", f"STOP-{n}") for n in range(3)]
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2  # two cases, then the stop flag is up

    sweep = fire_due_timers(poisoned.write_uow, poisoned.runtime, now=SWEEP, stop=stop)
    assert len(sweep.fired) == 2 and set(sweep.fired) < set(cases)


def test_the_worker_pass_goes_on_when_a_whole_step_raises(
    poisoned: Services, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
) -> None:
    with poisoned.uow() as uow:
        uow.outbox.add_many([{"channel": "portal_cabinet", "message_name": "portal_cabinet.note",
                              "idempotency_key": "step-1", "instance_id": None, "business_key": None,
                              "payload": {}}], RECEIVED)
        uow.commit()

    def exits(*args: object, **kwargs: object) -> None:
        raise SystemExit(3)

    monkeypatch.setattr("service.cli.fire_due_timers", exits)
    monkeypatch.setattr("service.cli.deliver_kept_messages", exits)
    result = cli("worker", "--once")
    assert result.exit_code == 0
    with poisoned.uow(write=False) as uow:
        assert uow.outbox.listing(pending_only=True) == []


def test_a_value_the_database_refuses_parks_the_case_on_postgresql(
    poisoned: Services, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An infinity that got past the engine's checks: PostgreSQL's JSON refuses it, SQLite keeps it."""
    case = _start(poisoned, "timer_healthy", "INF-DB")
    real_snapshot = ProcessRun.snapshot

    def with_infinity(self: ProcessRun) -> Snapshot:
        snapshot = real_snapshot(self)
        bad = OutgoingMessage("portal_cabinet.value", "portal_cabinet", {"value": float("inf")})
        return dataclasses.replace(snapshot, outgoing=(*snapshot.outgoing, bad))

    monkeypatch.setattr(ProcessRun, "snapshot", with_infinity)
    sweep = fire_due_timers(poisoned.write_uow, poisoned.runtime, now=SWEEP)
    with poisoned.uow(write=False) as uow:
        incident = uow.incidents.open_for(case)
    if poisoned.database.dialect == "postgresql":
        assert list(sweep.failed) == [case] and incident is not None
        assert "DataError" in incident.error or "Infinity" in incident.error, incident.error
    else:
        assert sweep.fired == [case] and incident is None


@pytest.mark.parametrize(("kind", "resolved"), [("timer", True), ("task", False), ("repair", False)])
def test_a_timer_firing_resolves_only_a_timer_incident(poisoned: Services, kind: str, resolved: bool) -> None:
    case = _start(poisoned, "timer_healthy", "KIND-1")
    with poisoned.uow() as uow:
        uow.incidents.record(instance_id=case, kind=kind, error="e", element_id="note_wake", element_name=None,
                             now=RECEIVED)
        uow.commit()
    assert fire_due_timers(poisoned.write_uow, poisoned.runtime, now=SWEEP).fired == [case]
    with poisoned.uow(write=False) as uow:
        assert (uow.incidents.open_for(case) is None) is resolved


def test_a_keyboard_interrupt_is_contained_in_the_worker_and_stops_a_one_shot_command(
    poisoned: Services, monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = _start(poisoned, "timer_healthy", "KBD-1")

    def interrupted(self: ProcessRun, now: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ProcessRun, "fire_timers", interrupted)
    with pytest.raises(KeyboardInterrupt):  # no stop flag: the operator's Ctrl-C ends `timers fire`
        fire_due_timers(poisoned.write_uow, poisoned.runtime, now=SWEEP)
    # The worker turns SIGINT into its stop flag, so a KeyboardInterrupt there comes from the case.
    sweep = fire_due_timers(poisoned.write_uow, poisoned.runtime, now=SWEEP, stop=lambda: False)
    assert list(sweep.failed) == [case] and "KeyboardInterrupt" in sweep.failed[case]


def test_a_diagram_refusing_the_step_on_purpose_is_the_persons_to_correct_not_an_incident(
    services: Services, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fail_if(condition, message) refuses what the person entered: they see the message and may correct it."""
    case = _intake_case(services, "REFUSE-1")
    task_id = _clerk_task(services, case)
    fail_if = build_helpers(services.calendar)["fail_if"]

    def refusing(self: ProcessRun, task_id: str, data: object, now: object) -> None:
        try:
            fail_if(True, "at most 3 working days")
        except ScriptError as inner:  # the engine reports it located, like any script error
            raise ScriptError(inner.message, element_id="register_application") from inner

    monkeypatch.setattr(ProcessRun, "complete_task", refusing)
    with services.uow() as uow, pytest.raises(ScriptError, match="at most 3 working days") as raised:
        complete_task(uow, services.runtime, actor=person(services, "office_clerk"), task_id=task_id,
                      data={"package_complete": True}, now=RECEIVED)
    assert not isinstance(raised.value, CaseHasIncident)
    with services.uow(write=False) as uow:
        assert uow.incidents.open_for(case) is None


@pytest.mark.parametrize("error", [RetryableConflict("deadlock"), Unavailable("disk full")])
def test_a_kept_message_the_database_could_not_take_now_is_tried_next_pass_without_an_incident(
    services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception,
) -> None:
    case = _confirmation_waiting(services, "DB-1")
    with services.uow() as uow:
        uow.inbox.add("confirmation", "DB-1", {"by": "parent"}, "db-1", RECEIVED)
        uow.commit()
    real = ProcessRun.deliver_message

    def busy(self: ProcessRun, name: str, payload: object, now: object) -> bool:
        raise error

    monkeypatch.setattr(ProcessRun, "deliver_message", busy)
    assert deliver_kept_messages(services.write_uow, services.runtime, now=RECEIVED) == 0
    with services.uow(write=False) as uow:
        assert uow.incidents.open_for(case) is None
    monkeypatch.setattr(ProcessRun, "deliver_message", real)
    assert deliver_kept_messages(services.write_uow, services.runtime, now=RECEIVED) == 1
