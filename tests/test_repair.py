"""Repairing stuck cases (issue 11, point 3): a case stuck on a diagram whose gateway condition has a
typo ('approvd') is repaired by moving it to the fixed version, or by correcting its data, and ends
normally; migrations are planned (dry run) and refused when the case waits on a missing element;
cases are cancelled with a reason; many cases at once; only administrators and analysts repair."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from service.application.cases import claim_task, complete_task, start_case
from service.application.demo import ensure_demo_accounts
from service.application.repair import (
    cancel_case,
    cases_stuck_at,
    correct_case_data,
    migrate_case,
    plan_migration,
    repair_each,
    retry_case,
)
from service.application.timers import fire_due_timers
from service.bootstrap import Services, build_services
from service.cli import main
from service.config import Settings
from service.domain.errors import InvalidInput, NotPermitted
from service.domain.model import EventRecord
from service.engine.library import Diagram, DiagramLibrary, parse_diagram
from service.web import create_app

from .support import PROJECT, QUALITY, SCHOOL_112, SYSTEM, at, build_test_services, owners, person, registry
from .test_sms_gateway import first_version_library, offer_case

FIXTURES = Path(__file__).parent / "repair_diagrams"
T0 = at("2026-03-20T10:00+05:00")
LATER = T0 + timedelta(hours=2)  # the one-hour timer is due


def _version(n: int) -> Diagram:
    name = f"repair_demo_v{n}.bpmn"
    return parse_diagram((FIXTURES / name).read_bytes(), name)


V1, V2, V3 = _version(1), _version(2), _version(3)


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    """The product with the broken v1 of repair_demo as the current version."""
    library = DiagramLibrary()
    library.add(V1)
    built = build_test_services(settings, library)
    yield built
    built.database.dispose()


def _stuck_case(svc: Services, key: str, approved: bool = True) -> int:
    """A case of v1 whose clerk checked it, whose timer fired and failed on the gateway's typo."""
    with svc.uow() as uow:
        ref = start_case(uow, svc.runtime, actor=SYSTEM, process_id="repair_demo", business_key=key, data={},
                         owners=owners(svc), now=T0)
    with svc.uow() as uow:
        [task] = uow.tasks.for_instance(ref.instance_id)
        complete_task(uow, svc.runtime, actor=person(svc, "office_clerk", login="clerk"), task_id=task.task_id,
                      data={"approved": approved, "checked_by": "clerk"}, now=T0)
    fire_due_timers(svc.uow, svc.runtime, now=LATER)
    with svc.uow(write=False) as uow:
        stored = uow.instances.get(ref.instance_id)
        assert stored is not None and stored.status == "running" and stored.diagram_hash == V1.content_hash
        assert [t.element_id for t in uow.timers.for_instance(ref.instance_id)] == ["cooling_off"]
    return ref.instance_id


def _publish_v2(svc: Services) -> None:
    svc.engine.library.add(V2)  # the analyst fixed the condition; new cases start on v2


def _events(svc: Services, instance_id: int, action: str) -> list[EventRecord]:
    with svc.uow(write=False) as uow:
        return [e for e in uow.events.for_instance(instance_id) if e.action == action]


def _decision(svc: Services, instance_id: int) -> list[dict[str, object]]:
    """What the case sent to the personal cabinet: its outcome."""
    with svc.uow(write=False) as uow:
        return [m.payload for m in uow.outbox.listing(instance_id=instance_id)
                if m.message_name == "portal_cabinet.decision"]


def _ended_approved(svc: Services, instance_id: int) -> None:
    with svc.uow(write=False) as uow:
        stored = uow.instances.get(instance_id)
        assert stored is not None and stored.status == "completed"
        assert uow.timers.for_instance(instance_id) == [] and uow.tasks.for_instance(instance_id) == []
    steps = [e.element_id for e in _events(svc, instance_id, "timer_fired")]
    assert steps == ["cooling_off"]
    assert _events(svc, instance_id, "case_completed")


def _admin(svc: Services):  # noqa: ANN202 - an Actor
    return person(svc, "administrator", login="admin25")


def test_a_stuck_case_moved_to_the_fixed_version_ends_normally(svc: Services) -> None:
    case = _stuck_case(svc, "R-1")
    _publish_v2(svc)
    with svc.uow(write=False) as uow:
        report = plan_migration(uow, svc.runtime, actor=_admin(svc), instance_id=case, target_version="current")
    assert report.possible and report.waiting_on == ("cooling_off",)
    assert dict(report.changed) == {"decide": ("cond_task_specs",)} and report.added == report.removed == ()

    outcome = migrate_case(svc.uow, svc.runtime, actor=_admin(svc), instance_id=case,
                           target_version=V2.content_hash[:10], reason="gateway typo fixed in v2", now=LATER)

    assert (outcome.outcome, outcome.status) == ("migrated", "completed")
    _ended_approved(svc, case)
    with svc.uow(write=False) as uow:  # the sweep's incident is closed by the repair, naming who did it
        assert uow.incidents.open_for(case) is None
        [incident] = uow.incidents.for_instance(case)
    assert (incident.resolved_by, incident.resolution) == ("admin25", "retried by admin25")
    assert _decision(svc, case) == [{"outcome": "approved", "by": "clerk"}]
    with svc.uow(write=False) as uow:
        assert uow.instances.get(case).diagram_hash == V2.content_hash  # type: ignore[union-attr]
    [migrated] = _events(svc, case, "case_migrated")
    assert migrated.actor == "admin25"
    assert migrated.details["from_version"] == V1.content_hash
    assert migrated.details["to_version"] == V2.content_hash
    assert migrated.details["reason"] == "gateway typo fixed in v2"


def test_a_stuck_case_whose_data_is_corrected_ends_normally(svc: Services) -> None:
    case = _stuck_case(svc, "R-2")

    outcome = correct_case_data(svc.uow, svc.runtime, actor=_admin(svc), instance_id=case,
                                changes={"approvd": True, "checked_by": "head"},
                                reason="the v1 condition reads 'approvd'", now=LATER)

    assert (outcome.outcome, outcome.status) == ("corrected", "completed")
    _ended_approved(svc, case)
    assert _decision(svc, case) == [{"outcome": "approved", "by": "head"}]  # the corrected value was used
    [corrected] = _events(svc, case, "case_data_corrected")
    assert corrected.actor == "admin25"
    assert corrected.details["reason"] == "the v1 condition reads 'approvd'"
    assert corrected.details["changes"] == {"approvd": {"old": "<absent>", "new": True},
                                            "checked_by": {"old": "clerk", "new": "head"}}
    with svc.uow(write=False) as uow:
        assert uow.instances.get(case).diagram_hash == V1.content_hash  # type: ignore[union-attr]


def test_a_correction_keeps_only_storable_values_and_needs_a_reason(svc: Services) -> None:
    case = _stuck_case(svc, "R-3")
    for changes, reason in (({"x": float("inf")}, "r"), ({"x": {1: 2}}, "r"), ({"not a name": 1}, "r"),
                            ({"_private": 1}, "r"), ({}, "r"), ({"approvd": True}, "  ")):
        with pytest.raises(InvalidInput):
            correct_case_data(svc.uow, svc.runtime, actor=_admin(svc), instance_id=case, changes=changes,
                              reason=reason, now=LATER)
    assert _events(svc, case, "case_data_corrected") == []


def test_a_retry_that_fails_again_is_recorded_and_the_case_stays(svc: Services) -> None:
    case = _stuck_case(svc, "R-4")
    outcome = retry_case(svc.uow, svc.runtime, actor=_admin(svc), instance_id=case, now=LATER)
    assert outcome.outcome == "failed" and "approvd" in outcome.detail and "decide" in outcome.detail
    [failed] = _events(svc, case, "case_retry_failed")
    assert failed.actor == "admin25"
    with svc.uow(write=False) as uow:  # the sweep's failure and this one: two tries of one open incident
        incident = uow.incidents.open_for(case)
    assert incident is not None and incident.tries == 2 and incident.element_id == "decide"
    assert "approvd" in incident.error
    with svc.uow(write=False) as uow:
        assert uow.instances.get(case).status == "running"  # type: ignore[union-attr]
        assert [t.element_id for t in uow.timers.for_instance(case)] == ["cooling_off"]


def test_the_dry_run_names_what_differs_and_the_missing_element(svc: Services) -> None:
    case = _stuck_case(svc, "R-5")
    svc.engine.library.add(V3)  # v3 renamed the timer the case waits at
    with svc.uow(write=False) as uow:
        report = plan_migration(uow, svc.runtime, actor=_admin(svc), instance_id=case, target_version="current")
    assert not report.possible
    assert report.added == ("cool_down",) and report.removed == ("cooling_off",)
    assert report.missing == ("cooling_off",)
    assert "decide" in report.changed
    text = "\n".join(report.lines())
    assert "can move: no, the target lacks cooling_off" in text and V3.content_hash[:12] in text


def test_a_migration_is_refused_when_the_target_lacks_an_element_the_case_waits_on(svc: Services) -> None:
    case = _stuck_case(svc, "R-6")
    svc.engine.library.add(V3)
    with pytest.raises(InvalidInput, match="'cooling_off'"):
        migrate_case(svc.uow, svc.runtime, actor=_admin(svc), instance_id=case, target_version="current",
                     reason="try v3", now=LATER)
    with svc.uow(write=False) as uow:
        assert uow.instances.get(case).diagram_hash == V1.content_hash  # type: ignore[union-attr]
    assert _events(svc, case, "case_migrated") == []


def test_a_cancelled_case_loses_its_tasks_and_timers_but_not_its_outbox(svc: Services) -> None:
    with svc.uow() as uow:
        ref = start_case(uow, svc.runtime, actor=SYSTEM, process_id="repair_demo", business_key="R-7", data={},
                         owners=owners(svc), now=T0)
    with svc.uow(write=False) as uow:
        assert len(uow.tasks.for_instance(ref.instance_id)) == 1
        outbox_before = uow.outbox.listing(instance_id=ref.instance_id)
    with svc.uow() as uow:
        outcome = cancel_case(uow, actor=_admin(svc), instance_id=ref.instance_id, reason="filed twice", now=T0)
    assert outcome.status == "cancelled"
    with svc.uow(write=False) as uow:
        assert uow.instances.get(ref.instance_id).status == "cancelled"  # type: ignore[union-attr]
        assert uow.tasks.for_instance(ref.instance_id) == [] and uow.timers.for_instance(ref.instance_id) == []
        assert uow.outbox.listing(instance_id=ref.instance_id) == outbox_before
    [cancelled] = _events(svc, ref.instance_id, "case_cancelled")
    assert (cancelled.actor, cancelled.details["reason"], cancelled.details["tasks"]) == ("admin25", "filed twice",
                                                                                          ["check"])
    assert _events(svc, ref.instance_id, "incident_resolved") == []  # it had none
    with svc.uow() as uow, pytest.raises(InvalidInput, match="cancelled"):
        cancel_case(uow, actor=_admin(svc), instance_id=ref.instance_id, reason="again", now=T0)


def test_many_cases_stuck_at_one_element_are_moved_and_one_failing_does_not_stop_the_others(
        svc: Services) -> None:
    cases = [_stuck_case(svc, f"B-{n}") for n in range(3)]
    # the middle one's data makes the fixed gateway fail too (no condition holds for "maybe")
    correct_case_data(svc.uow, svc.runtime, actor=_admin(svc), instance_id=cases[1],
                      changes={"approved": "maybe"}, reason="operator error in a test", now=LATER)
    _publish_v2(svc)
    with svc.uow(write=False) as uow:
        stuck = cases_stuck_at(uow, "repair_demo", V1.content_hash[:8], "cooling_off")
        assert cases_stuck_at(uow, "repair_demo", V1.content_hash[:8], "check") == []
    assert stuck == cases

    report = repair_each(stuck, lambda n: migrate_case(svc.uow, svc.runtime, actor=_admin(svc), instance_id=n,
                                                       target_version="current", reason="bulk fix", now=LATER))

    assert [o.instance_id for o in report.outcomes] == cases
    assert set(report.errors) == {cases[1]} and "decide" in report.errors[cases[1]]
    with svc.uow(write=False) as uow:
        statuses = [uow.instances.get(n).status for n in cases]  # type: ignore[union-attr]
    assert statuses == ["completed", "running", "completed"]
    assert _decision(svc, cases[0]) == _decision(svc, cases[2]) == [{"outcome": "approved", "by": "clerk"}]


@pytest.mark.parametrize("roles", [("office_clerk",), ("head",)])
def test_clerks_and_heads_may_not_repair(svc: Services, roles: tuple[str, ...]) -> None:
    case = _stuck_case(svc, "P-1")
    _publish_v2(svc)
    someone = person(svc, *roles)
    with pytest.raises(NotPermitted):
        retry_case(svc.uow, svc.runtime, actor=someone, instance_id=case, now=LATER)
    with pytest.raises(NotPermitted):
        correct_case_data(svc.uow, svc.runtime, actor=someone, instance_id=case, changes={"approvd": True},
                          reason="r", now=LATER)
    with pytest.raises(NotPermitted):
        migrate_case(svc.uow, svc.runtime, actor=someone, instance_id=case, target_version="current",
                     reason="r", now=LATER)
    with svc.uow(write=False) as uow, pytest.raises(NotPermitted):
        plan_migration(uow, svc.runtime, actor=someone, instance_id=case, target_version="current")
    with svc.uow() as uow, pytest.raises(NotPermitted):
        cancel_case(uow, actor=someone, instance_id=case, reason="r", now=LATER)
    with svc.uow(write=False) as uow:
        assert uow.instances.get(case).status == "running"  # type: ignore[union-attr]


def test_an_administrator_of_another_school_may_not_but_an_analyst_may(svc: Services) -> None:
    case = _stuck_case(svc, "P-2")
    other_admin = person(svc, "administrator", bin_=SCHOOL_112, login="admin112")
    with pytest.raises(NotPermitted):
        retry_case(svc.uow, svc.runtime, actor=other_admin, instance_id=case, now=LATER)
    analyst = person(svc, "analyst", bin_=SCHOOL_112, login="analyst")
    outcome = correct_case_data(svc.uow, svc.runtime, actor=analyst, instance_id=case,
                                changes={"approvd": True}, reason="typo", now=LATER)
    assert outcome.status == "completed"


# --- the command line --------------------------------------------------------------------------------

@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Iterator[tuple[dict[str, str], Services, Path]]:
    """The CLI's environment with repair_demo v1 as the deployed diagram, services on it, demo accounts."""
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "repair_demo.bpmn").write_bytes((FIXTURES / "repair_demo_v1.bpmn").read_bytes())
    env = {"DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
           "HOMESCHOOL_PROCESSES_DIR": str(processes), "HOMESCHOOL_FORMS_DIR": str(tmp_path / "forms"),
           "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "no-overrides.toml")}
    library = DiagramLibrary.from_directory(processes)
    built = build_test_services(Settings.from_env(env, base=PROJECT), library)
    with built.uow() as uow:
        ensure_demo_accounts(uow, T0)
    yield env, built, processes
    built.database.dispose()


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_the_cli_retries_plans_and_migrates_every_case_stuck_at_an_element(cli) -> None:  # noqa: ANN001
    env, svc, processes = cli
    cases = [_stuck_case(svc, f"C-{n}") for n in range(2)]

    failed = _run(env, "case", "retry", str(cases[0]), "--as", "admin25")
    assert failed.exit_code == 1 and "failed" in failed.stdout and "approvd" in failed.stdout

    (processes / "repair_demo.bpmn").write_bytes((FIXTURES / "repair_demo_v2.bpmn").read_bytes())  # deployed
    plan = _run(env, "case", "migrate", str(cases[0]), "--to", "current", "--dry-run", "--as", "analyst")
    assert plan.exit_code == 0, plan.output
    assert "changed: decide (cond_task_specs)" in plan.stdout and "can move: yes" in plan.stdout
    assert _events(svc, cases[0], "case_migrated") == []

    stuck = f"repair_demo:{V1.content_hash[:12]}:cooling_off"
    moved = _run(env, "case", "migrate", "--stuck-at", stuck, "--to", "current", "--reason", "typo fixed",
                 "--as", "admin25")
    assert moved.exit_code == 0, moved.output
    for case, key in zip(cases, ("C-0", "C-1"), strict=True):
        assert f"case {case} ({key}): migrated, completed" in moved.stdout
        assert _decision(svc, case) == [{"outcome": "approved", "by": "clerk"}]
    assert "2 case(s): 2 repaired, 0 not" in moved.stdout


def test_the_cli_corrects_and_cancels_as_an_administrator_only(cli) -> None:  # noqa: ANN001
    env, svc, _processes = cli
    first, second = _stuck_case(svc, "D-1"), _stuck_case(svc, "D-2")

    refused = _run(env, "case", "cancel", str(first), "--reason", "no", "--as", "clerk")
    assert refused.exit_code == 1 and refused.stderr.startswith("homeschool: error:")
    assert "administrator" in refused.stderr

    corrected = _run(env, "case", "correct", str(first), "--set", "approvd=true", "--set", 'checked_by="head"',
                     "--reason", "typo in v1", "--as", "admin25")
    assert corrected.exit_code == 0, corrected.output
    assert f"case {first} (D-1): corrected, completed" in corrected.stdout
    assert _decision(svc, first) == [{"outcome": "approved", "by": "head"}]

    bad = _run(env, "case", "correct", str(second), "--set", "approvd=yes", "--reason", "r", "--as", "admin25")
    assert bad.exit_code == 2 and "not JSON" in bad.stderr

    cancelled = _run(env, "case", "cancel", str(second), "--reason", "duplicate", "--as", "admin25")
    assert cancelled.exit_code == 0 and f"case {second} (D-2): cancelled, cancelled" in cancelled.stdout
    [event] = _events(svc, second, "case_cancelled")
    assert event.details["reason"] == "duplicate" and event.actor == "admin25"


# --- the case page -----------------------------------------------------------------------------------

def _signed_in(app: Flask, login: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").data.decode())
    assert token is not None
    response = client.post("/login", data={"login": login, "password": f"{login}-demo-2026",
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
    page = client.get("/tasks").data.decode()
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return client, found.group(1)


def test_the_case_page_repairs_for_an_administrator_and_refuses_a_clerk(cli) -> None:  # noqa: ANN001
    _env, svc, _processes = cli
    app = create_app(svc.settings, svc, TESTING=True)
    first, second = _stuck_case(svc, "W-1"), _stuck_case(svc, "W-2")
    _publish_v2(svc)

    clerk, clerk_token = _signed_in(app, "clerk")
    assert "/repair/" not in clerk.get(f"/cases/{first}").data.decode()
    refused = clerk.post(f"/cases/{first}/repair/cancel", data={"reason": "no", "csrf_token": clerk_token})
    assert refused.status_code == 403

    admin, token = _signed_in(app, "admin25")
    page = admin.get(f"/cases/{first}").data.decode()
    assert f"/cases/{first}/repair/retry" in page and f'value="{V2.content_hash}"' in page
    done = admin.post(f"/cases/{first}/repair/correct", data={"name": "approvd", "value": "true",
                                                               "reason": "typo in v1", "csrf_token": token})
    assert done.status_code == 302
    assert _decision(svc, first) == [{"outcome": "approved", "by": "clerk"}]
    assert 'data-status="completed"' in admin.get(f"/cases/{first}").data.decode()

    plan = admin.post(f"/cases/{second}/repair/migrate", data={"to": V2.content_hash, "action": "plan",
                                                                "csrf_token": token}, follow_redirects=True)
    assert "changed: decide (cond_task_specs)" in plan.data.decode() and _events(svc, second, "case_migrated") == []
    admin.post(f"/cases/{second}/repair/cancel", data={"reason": "filed twice", "csrf_token": token})
    cancelled = admin.get(f"/cases/{second}").data.decode()
    assert 'data-status="cancelled"' in cancelled and "Отменено" in cancelled
    assert f"/cases/{second}/repair/retry" not in cancelled


def test_an_administrator_does_not_see_a_case_that_never_had_an_incident(cli) -> None:  # noqa: ANN001
    _env, svc, _processes = cli
    app = create_app(svc.settings, svc, TESTING=True)
    with svc.uow() as uow:
        ref = start_case(uow, svc.runtime, actor=SYSTEM, process_id="repair_demo", business_key="W-3", data={},
                         owners=owners(svc), now=T0)
    admin, _token = _signed_in(app, "admin25")
    assert admin.get(f"/cases/{ref.instance_id}").status_code == 404


def test_after_a_restart_a_case_at_a_claimed_task_moves_to_the_deployed_version_keeping_its_claim(
        settings: Settings) -> None:
    first = DiagramLibrary()
    first.add(V1)
    before = build_test_services(settings, first)
    clerk = person(before, "office_clerk", login="clerk")
    with before.uow() as uow:
        ref = start_case(uow, before.runtime, actor=SYSTEM, process_id="repair_demo", business_key="M-1", data={},
                         owners=owners(before), now=T0)
    with before.uow() as uow:
        [task] = uow.tasks.for_instance(ref.instance_id)
        claim_task(uow, actor=clerk, task_id=task.task_id, now=T0)
    before.database.dispose()

    deployed = DiagramLibrary()  # a restart with the fixed file: v1 is only in the database now
    deployed.add(parse_diagram(V2.source.replace(b'name="Check the request"', b'name="Check the request (v2)"'),
                               "repair_demo.bpmn"))
    svc = build_test_services(settings, deployed)
    try:
        analyst = person(svc, "analyst", login="analyst")
        outcome = migrate_case(svc.uow, svc.runtime, actor=analyst, instance_id=ref.instance_id,
                               target_version="current", reason="deploying the fix", now=T0)
        assert (outcome.outcome, outcome.status) == ("migrated", "running")
        with svc.uow(write=False) as uow:
            [still] = uow.tasks.for_instance(ref.instance_id)
            assert (still.task_id, still.assignee) == (task.task_id, "clerk")
            assert (task.title, still.title) == ("Check the request", "Check the request (v2)")
        with svc.uow() as uow:
            complete_task(uow, svc.runtime, actor=clerk, task_id=task.task_id,
                          data={"approved": False, "checked_by": "clerk"}, now=T0)
        sweep = fire_due_timers(svc.uow, svc.runtime, now=LATER)
        assert sweep.fired == [ref.instance_id] and not sweep.failed
        assert _decision(svc, ref.instance_id) == [{"outcome": "refused", "by": "clerk"}]
        with svc.uow(write=False) as uow:
            assert uow.instances.get(ref.instance_id).status == "completed"  # type: ignore[union-attr]
    finally:
        svc.database.dispose()


def test_a_first_version_offer_waiting_for_a_reply_can_move_to_the_shipped_diagram(product: Services) -> None:
    """A real diagram: proactive_offer as first shipped (tests/legacy) waits at an event-based gateway for
    the reply or the 24-hour timer; both catch events count as waited on, and today's diagram has them."""
    old = build_services(product.settings, library=first_version_library())
    old.test_registry = registry(product)  # type: ignore[attr-defined]
    try:
        waiting = offer_case(old, "OLD-1")
    finally:
        old.database.dispose()
    analyst = person(product, "analyst", bin_=QUALITY, login="analyst")
    with product.uow(write=False) as uow:
        report = plan_migration(uow, product.runtime, actor=analyst, instance_id=waiting, target_version="current")
    assert report.waiting_on == ("await_reply", "reply_received", "reply_window_closed")
    assert report.possible and "follow_up_silence" in report.removed and "silence_policy" in report.changed
    with product.uow(write=False) as uow:
        [timer] = uow.timers.for_instance(waiting)
    outcome = migrate_case(product.write_uow, product.runtime, actor=analyst, instance_id=waiting,
                           target_version="current", reason="the delivery report", now=at("2026-03-20T18:00+05:00"))
    assert (outcome.outcome, outcome.status) == ("migrated", "running")
    with product.uow(write=False) as uow:
        assert uow.timers.for_instance(waiting) == [timer]  # the reply window still closes when it did
