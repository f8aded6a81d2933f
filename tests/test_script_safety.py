"""Diagram code runs restricted: escapes fail with a clear error naming the element, and harm nothing."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from service.application.cases import start_case
from service.bootstrap import Services, build_services
from service.config import Settings
from service.domain.calendar import WorkingCalendar
from service.domain.errors import DiagramError, ScriptError
from service.engine.library import DiagramLibrary, DiagramSetError, parse_diagram
from service.engine.runtime import ProcessEngine

from .support import HOSTILE, SYSTEM, at, owners

NOW = at("2026-03-20T11:00+05:00")
TEMPLATE = (HOSTILE / "hostile_script.bpmn.template").read_text(encoding="utf-8")


def _diagram(script: str) -> bytes:
    return TEMPLATE.replace("SCRIPT", escape(script)).encode("utf-8")


def test_kept_hostile_diagram_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(DiagramSetError) as caught:
        DiagramLibrary().load_files([HOSTILE / "hostile_script.bpmn"], base=HOSTILE)
    [error] = caught.value.errors
    assert (error.file, error.element_id) == ("hostile_script.bpmn", "attack")
    assert "imports are not allowed" in error.message
    assert not Path("/tmp/homeschool-pwned").exists()


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("import os", "imports are not allowed"),
        ("from subprocess import run", "imports are not allowed"),
        ("x = __import__('os')", "starts with \"_\""),
        ("x = ().__class__.__base__.__subclasses__()", "starts with \"_\""),
        ("x = getattr((), '__class__')", None),  # compiles; blocked at run time instead
    ],
)
def test_escapes_are_refused_when_the_diagram_loads(script: str, reason: str | None) -> None:
    if reason is None:
        parse_diagram(_diagram(script), "hostile.bpmn")  # loads: its danger is only visible when run
        return
    with pytest.raises(DiagramError) as caught:
        parse_diagram(_diagram(script), "hostile.bpmn")
    assert caught.value.element_id == "attack"
    assert reason in caught.value.message


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("data = open('/etc/passwd').read()", "name 'open' is not defined"),
        ("x = getattr((), '__class__')", "name 'getattr' is not defined"),
        ("x = 0\nwhile True:\n    x = x + 1", "more than 100000 lines"),
        ("x = [c for c in 'abc'].__len__()", "starts with \"_\""),
    ],
)
def test_runtime_escapes_fail_with_the_element_named(script: str, reason: str, tmp_path: Path) -> None:
    try:
        diagram = parse_diagram(_diagram(script), "hostile.bpmn")
    except DiagramError as exc:  # refused even earlier: just as good
        assert reason in exc.message and exc.element_id == "attack"
        return
    library = DiagramLibrary()
    library.add(diagram)
    engine = ProcessEngine(library, WorkingCalendar())
    with pytest.raises(ScriptError) as caught:
        engine.start("hostile_script", {}, NOW)
    assert caught.value.element_id == "attack"
    assert reason in str(caught.value)


def test_failed_start_stores_nothing(settings: Settings) -> None:
    library = DiagramLibrary()
    library.add(parse_diagram(_diagram("data = open('/etc/passwd').read()"), "hostile.bpmn"))
    services: Services = build_services(settings, library=library)
    try:
        school = owners(services)  # loads the registry: before the unit of work below opens
        with services.uow() as uow, pytest.raises(ScriptError):
            start_case(uow, services.runtime, process_id="hostile_script", business_key="EVIL-1",
                       data={}, actor=SYSTEM, owners=school, now=NOW)
        with services.uow(write=False) as uow:
            assert uow.instances.count() == 0
            assert uow.tasks.count() == 0
    finally:
        services.database.dispose()


def test_allowed_helpers_and_builtins_still_work() -> None:
    script = (
        "deadline = working_deadline('2026-03-20T17:00+05:00', 2)\n"
        "offer_expires = hours_after('2026-03-20T17:00+05:00', 24)\n"
        "total = sum([1, 2, 3])\n"
        "names = sorted({'b': 1, 'a': 2}.keys())\n"
        "weekend = is_working_day('2026-03-21')"
    )
    library = DiagramLibrary()
    library.add(parse_diagram(_diagram(script), "helpers.bpmn"))
    run = ProcessEngine(library, WorkingCalendar()).start("hostile_script", {}, NOW)
    data = run.snapshot().data
    assert data["deadline"] == "2026-03-27T18:30:00+05:00"
    assert data["offer_expires"] == "2026-03-21T17:00:00+05:00"
    assert (data["total"], data["names"], data["weekend"]) == (6, ["a", "b"], False)
