"""The ``homeschool`` command, driven in-process with click's CliRunner on the test database.

Exit codes: 0 done, 1 the work itself failed (a broken diagram, a missing form), 2 bad input;
an error is one line on stderr starting ``homeschool: error:``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.application.cases import complete_task, start_case
from service.application.queries import case_view, list_tasks
from service.bootstrap import Services
from service.cli import main
from service.persistence import migrate
from service.persistence.database import Database
from service.persistence.uow import UnitOfWork

from .support import DIAGRAMS, GYMNASIUM_3, REGISTRY, SCHOOL_25, SCHOOL_112, SYSTEM, at, owners, person

RECEIVED = at("2026-03-20T17:00+05:00")  # Friday before Nauryz
DEADLINE_TEXT = "2026-03-27T18:30:00+05:00"  # 2 working days: 26 and 27 March


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The environment of the command, built like the ``settings`` fixture."""
    return {
        "DATABASE_URL": database_url,
        "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
        "HOMESCHOOL_PROCESSES_DIR": str(DIAGRAMS),
        "HOMESCHOOL_FORMS_DIR": str(tmp_path / "forms"),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "no-overrides.toml"),
    }


def run(env: dict[str, str], *args: str) -> Result:
    """Invoke ``homeschool ARGS`` with ``env``; stdout and stderr are kept apart (click >= 8.2)."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def assert_input_error(result: Result) -> str:
    """Exit code 2 and exactly one stderr line starting 'homeschool: error:'; returns that line."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("homeschool: error:"), lines
    assert result.stdout == ""
    return lines[0]


# --- calendar -------------------------------------------------------------------------------


def test_calendar_deadline_prints_the_iso_instant(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "calendar", "deadline", "--from", "2026-03-20T17:00+05:00", "--working-days", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == DEADLINE_TEXT + "\n"
    assert result.stderr == ""


def test_calendar_deadline_counts_the_same_instant_given_in_another_offset(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "calendar", "deadline", "--from", "2026-03-20T12:00+00:00", "--working-days", "2")
    assert (result.exit_code, result.stdout) == (0, DEADLINE_TEXT + "\n")


@pytest.mark.parametrize(
    ("start", "days", "mentions"),
    [
        ("2026-03-20T17:00", "2", "no UTC offset"),
        ("2026-03-20T17:00+05:00", "-1", "at least 1"),
        ("2026-03-20T17:00+05:00", "0", "at least 1"),
        ("2026-03-20T17:00+05:00", "two", "whole number"),
        ("garbage", "2", "garbage"),
    ],
    ids=["naive-time", "negative-days", "zero-days", "days-not-a-number", "garbage-time"],
)
def test_calendar_deadline_refuses_bad_input(cli_env: dict[str, str], start: str, days: str, mentions: str) -> None:
    line = assert_input_error(run(cli_env, "calendar", "deadline", "--from", start, "--working-days", days))
    assert mentions in line


@pytest.mark.parametrize(
    ("day", "answer"),
    [
        ("2026-03-23", "no"),  # Monday, Nauryz
        ("2026-03-26", "yes"),  # Thursday after the Nauryz days off
        ("2025-01-05", "yes"),  # Sunday worked in exchange for Friday 3 January 2025
        ("2025-01-03", "no"),  # that Friday
    ],
)
def test_calendar_is_working_day(cli_env: dict[str, str], day: str, answer: str) -> None:
    result = run(cli_env, "calendar", "is-working-day", day)
    assert (result.exit_code, result.stdout, result.stderr) == (0, answer + "\n", "")


def test_calendar_is_working_day_refuses_a_non_date(cli_env: dict[str, str]) -> None:
    line = assert_input_error(run(cli_env, "calendar", "is-working-day", "2026-02-30"))
    assert "2026-02-30" in line


def test_calendar_overrides_file_moves_the_deadline(cli_env: dict[str, str], tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(
        '[[day_off]]\ndate = 2026-03-26\nreason = "Test: 26 March declared a day off"\n', encoding="utf-8"
    )
    env = {**cli_env, "HOMESCHOOL_CALENDAR_OVERRIDES": str(overrides)}

    assert run(env, "calendar", "is-working-day", "2026-03-26").stdout == "no\n"
    result = run(env, "calendar", "deadline", "--from", "2026-03-20T17:00+05:00", "--working-days", "2")
    # 26 March off: working day 1 is Friday 27 March, working day 2 is Monday 30 March.
    assert (result.exit_code, result.stdout) == (0, "2026-03-30T18:30:00+05:00\n")


def test_calendar_broken_overrides_file_is_one_error_line_naming_the_entry(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    overrides = tmp_path / "overrides.toml"
    overrides.write_text('[[day_off]]\nreason = "forgot the date"\n', encoding="utf-8")
    env = {**cli_env, "HOMESCHOOL_CALENDAR_OVERRIDES": str(overrides)}
    line = assert_input_error(run(env, "calendar", "is-working-day", "2026-03-26"))
    assert "day_off #1 has no date" in line


# --- db -------------------------------------------------------------------------------------


def test_db_upgrade_then_current_prints_the_head_revision(cli_env: dict[str, str]) -> None:
    upgraded = run(cli_env, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert migrate.head_revision() in upgraded.stdout

    current = run(cli_env, "db", "current")
    assert current.exit_code == 0, current.stderr
    assert current.stdout == migrate.head_revision() + "\n"


def test_db_current_on_a_new_database_says_none_until_upgraded(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh' / 'new.sqlite3'}"}
    before = run(env, "db", "current")
    assert before.exit_code == 0
    assert before.stdout.startswith("none")

    upgraded = run(env, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert upgraded.stdout == f"database at schema {migrate.head_revision()} (sqlite)\n"
    assert run(env, "db", "current").stdout == migrate.head_revision() + "\n"


# --- validate -------------------------------------------------------------------------------


def _write_forms(forms: Path, *tasks: str, process_id: str = "intake_demo") -> None:
    folder = forms / process_id
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        (folder / f"{task}.schema.json").write_text(json.dumps({"type": "object"}), encoding="utf-8")


def test_validate_names_the_file_and_the_broken_flow(cli_env: dict[str, str], tmp_path: Path) -> None:
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    source = (DIAGRAMS / "intake_demo.bpmn").read_text(encoding="utf-8")
    good = 'id="flow_to_await" sourceRef="review_by_head" targetRef="await_confirmation"'
    assert source.count(good) == 1
    (broken_dir / "intake_demo.bpmn").write_text(
        source.replace(good, 'id="flow_to_await" sourceRef="review_by_head" targetRef="no_such_element"'),
        encoding="utf-8",
    )
    env = {**cli_env, "HOMESCHOOL_PROCESSES_DIR": str(broken_dir)}

    result = run(env, "validate")
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith("ERROR ")
    assert "intake_demo.bpmn" in errors[0]
    assert "flow_to_await" in errors[0]
    assert "no_such_element" in errors[0]
    assert "ok " not in result.stdout


def test_validate_lists_user_tasks_and_start_messages_without_forms(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "validate")
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 3, errors
    assert "'register_application' has no form" in errors[0]
    assert "'review_by_head' has no form" in errors[1]
    assert all(line.startswith("ERROR ") and "intake_demo.bpmn" in line for line in errors[:2])
    assert "offer_demo.bpmn: start message 'conclusion_registered' has no form" in errors[2]
    assert "process 'intake_demo', 2 user tasks" in result.stdout


def test_validate_passes_with_every_form_present(cli_env: dict[str, str], tmp_path: Path) -> None:
    _write_forms(tmp_path / "forms", "register_application", "review_by_head")
    _write_forms(tmp_path / "forms", "conclusion_registered", process_id="offer_demo")
    result = run(cli_env, "validate")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("ok ")
    assert "process 'intake_demo', 2 user tasks" in result.stdout


def test_validate_reports_a_form_without_a_user_task(cli_env: dict[str, str], tmp_path: Path) -> None:
    _write_forms(tmp_path / "forms", "register_application", "review_by_head", "no_such_task")
    _write_forms(tmp_path / "forms", "conclusion_registered", process_id="offer_demo")
    _write_forms(tmp_path / "forms", "anything", process_id="no_such_process")
    result = run(cli_env, "validate")
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 2, errors
    assert any("no user task or start message 'no_such_task' in a process 'intake_demo'" in line for line in errors)
    assert any("no user task or start message 'anything' in a process 'no_such_process'" in line for line in errors)


def test_validate_reports_a_form_that_is_not_json(cli_env: dict[str, str], tmp_path: Path) -> None:
    _write_forms(tmp_path / "forms", "register_application", "review_by_head")
    (tmp_path / "forms" / "intake_demo" / "review_by_head.schema.json").write_text("{not json", encoding="utf-8")
    result = run(cli_env, "validate")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if "review_by_head.schema.json" in line and
            "not valid JSON" in line]


# --- timers ---------------------------------------------------------------------------------


def _head_task_with_timer(services: Services) -> int:
    """A case whose head review has its boundary timer due 2026-03-27T18:30+05:00."""
    with services.uow() as uow:
        ref = start_case(uow, services.runtime, process_id="intake_demo", business_key="CLI-1",
                         data={"received_at": RECEIVED.isoformat()}, actor=SYSTEM, owners=owners(services),
                         now=RECEIVED)
    with services.uow(write=False) as uow:
        task = list_tasks(uow, services.runtime, actor=SYSTEM, role="office_clerk").items[0]
    with services.uow() as uow:
        complete_task(uow, services.runtime, task_id=task.task_id, data={"package_complete": True},
                      actor=person(services, "office_clerk", login="clerk"), now=RECEIVED)
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=ref.instance_id)
    assert [(t.element_id, t.due_at) for t in view.timers] == [("review_deadline", at("2026-03-27T18:30+05:00"))]
    return ref.instance_id


def _head_tasks(services: Services) -> int:
    with services.uow(write=False) as uow:
        return list_tasks(uow, services.runtime, actor=SYSTEM, role="head").total


def test_timers_fire_only_after_the_deadline(cli_env: dict[str, str], services: Services) -> None:
    case = _head_task_with_timer(services)

    early = run(cli_env, "timers", "fire", "--now", "2026-03-27T18:00+05:00")
    assert early.exit_code == 0, early.stderr
    assert early.stdout == "fired timers of 0 case(s) as of 2026-03-27T18:00:00+05:00\n"
    assert _head_tasks(services) == 1

    naive = run(cli_env, "timers", "fire", "--now", "2026-03-27T18:31")
    assert "no UTC offset" in assert_input_error(naive)
    assert _head_tasks(services) == 1

    late = run(cli_env, "timers", "fire", "--now", "2026-03-27T18:31+05:00")
    assert late.exit_code == 0, late.stderr
    assert late.stdout == "fired timers of 1 case(s) as of 2026-03-27T18:31:00+05:00\n"
    assert late.stderr == ""
    assert _head_tasks(services) == 0
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
    assert view.status == "completed" and view.timers == []
    fired = [e for e in view.history if e.action == "timer_fired"]
    assert [(e.element_id, e.actor) for e in fired] == [("review_deadline", "system:timer")]

    again = run(cli_env, "timers", "fire", "--now", "2026-03-30T10:00+05:00")
    assert again.stdout.startswith("fired timers of 0 case(s)")


def test_timers_fire_accepts_the_instant_in_another_offset(cli_env: dict[str, str], services: Services) -> None:
    _head_task_with_timer(services)
    result = run(cli_env, "timers", "fire", "--now", "2026-03-27T13:31+00:00")  # 18:31 in Almaty
    assert result.stdout == "fired timers of 1 case(s) as of 2026-03-27T18:31:00+05:00\n"
    assert _head_tasks(services) == 0


# --- organisations and staff ----------------------------------------------------------------

#: The header of a registry file with only the required columns.
REGISTRY_HEADER = "bin,kind,name_kk,name_ru,address_kk,address_ru,phone,region,head_name\n"


def _registry_row(bin_: str, kind: str = "school", name: str = "Мектеп") -> str:
    return f"{bin_},{kind},{name},{name},Мекенжай,Адрес,+7 727 000 00 00,Алматы қ.,Иванов Иван\n"


def _organisation_count(database_url: str) -> int:
    database = Database(database_url)
    try:
        with UnitOfWork(database, write=False) as uow:
            return uow.organisations.count()
    finally:
        database.dispose()


def test_organisations_import_adds_the_registry_and_a_second_run_changes_nothing(cli_env: dict[str, str]) -> None:
    first = run(cli_env, "organisations", "import", str(REGISTRY))
    assert first.exit_code == 0, first.stderr
    assert first.stdout == f"{REGISTRY}: 6 added, 0 updated, 0 unchanged\n"
    assert _organisation_count(cli_env["DATABASE_URL"]) == 6

    second = run(cli_env, "organisations", "import", str(REGISTRY))
    assert second.exit_code == 0, second.stderr
    assert second.stdout == f"{REGISTRY}: 0 added, 0 updated, 6 unchanged\n"
    assert _organisation_count(cli_env["DATABASE_URL"]) == 6

    listed = run(cli_env, "organisations", "list", "--search", SCHOOL_25)
    assert listed.exit_code == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{SCHOOL_25}  school") and "№ 25" in line


def test_organisations_import_of_a_bad_file_names_every_bad_row_and_imports_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "registry.csv"
    bad.write_text(
        REGISTRY_HEADER
        + _registry_row(SCHOOL_25)  # line 2: good, yet not imported either
        + _registry_row("050140003126")  # line 3: wrong check digit
        + _registry_row(SCHOOL_112, kind="castle")  # line 4: unknown kind
        + _registry_row(GYMNASIUM_3, name=""),  # line 5: no name
        encoding="utf-8",
    )
    result = run(cli_env, "organisations", "import", str(bad))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == f"homeschool: error: nothing was imported: 4 problem(s) in {bad}"
    problems = lines[:-1]
    assert len(problems) == 4, problems
    assert problems[0].startswith(f"{bad}: line 3, column 'bin': has a wrong check digit")
    assert problems[1].startswith(f"{bad}: line 4, column 'kind': 'castle' is not one of")
    assert sorted(problems[2:]) == [f"{bad}: line 5, column 'name_kk': is empty",
                                    f"{bad}: line 5, column 'name_ru': is empty"]
    assert _organisation_count(cli_env["DATABASE_URL"]) == 0


def test_organisations_import_of_a_missing_file_is_an_input_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    line = assert_input_error(run(cli_env, "organisations", "import", str(tmp_path / "nowhere.csv")))
    assert "cannot read" in line and "nowhere.csv" in line


def _staff_add(env: dict[str, str], *extra: str) -> Result:
    return run(env, "staff", "add", "--login", "aigerim", "--name", "Серікова Айгерім", "--password",
               "aigerim-secret-1", *extra)


def test_staff_add_creates_a_member_of_the_organisation_with_its_roles(cli_env: dict[str, str]) -> None:
    assert run(cli_env, "organisations", "import", str(REGISTRY)).exit_code == 0
    result = _staff_add(cli_env, "--organisation", SCHOOL_112, "--role", "office_clerk", "--role", "head",
                        "--position-ru", "Заместитель директора")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("created aigerim at ") and "№ 112" in result.stdout

    database = Database(cli_env["DATABASE_URL"])
    try:
        with UnitOfWork(database, write=False) as uow:
            found = uow.staff.by_login("aigerim")
            school = uow.organisations.by_bin(SCHOOL_112)
    finally:
        database.dispose()
    assert found is not None and school is not None
    member, _hash, _failures, _locked, active = found
    assert active and member.full_name == "Серікова Айгерім" and not member.national_admin
    assert member.organisation_ids == {school.id}
    assert member.roles_in(school.id) == {"office_clerk", "head"}
    assert member.membership(school.id).position_ru == "Заместитель директора"


def test_staff_add_refuses_an_unknown_organisation(cli_env: dict[str, str]) -> None:
    assert run(cli_env, "organisations", "import", str(REGISTRY)).exit_code == 0
    line = assert_input_error(_staff_add(cli_env, "--organisation", "999999999999", "--role", "office_clerk"))
    assert "no active organisation with BIN 999999999999" in line
    database = Database(cli_env["DATABASE_URL"])
    try:
        with UnitOfWork(database, write=False) as uow:
            assert uow.staff.by_login("aigerim") is None
    finally:
        database.dispose()


def test_staff_add_refuses_a_role_no_diagram_has(cli_env: dict[str, str]) -> None:
    assert run(cli_env, "organisations", "import", str(REGISTRY)).exit_code == 0
    line = assert_input_error(_staff_add(cli_env, "--organisation", SCHOOL_25, "--role", "wizard"))
    assert "unknown role(s): wizard" in line
