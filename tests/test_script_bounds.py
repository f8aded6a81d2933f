"""Diagram code is bounded per evaluation (C-level calls too); unstorable values fail the step naming the element."""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from service.application.cases import start_case
from service.bootstrap import Services, build_services
from service.config import Settings
from service.domain.calendar import WorkingCalendar
from service.domain.errors import DiagramError, ScriptError
from service.engine import limits
from service.engine.library import DiagramLibrary, parse_diagram
from service.engine.runtime import ProcessEngine
from service.engine.scripting import RestrictedEnvironment

from .support import HOSTILE, SYSTEM, at, owners

NOW = at("2026-03-20T11:00+05:00")
SCRIPT_TEMPLATE = (HOSTILE / "hostile_script.bpmn.template").read_text(encoding="utf-8")
BOUNDS_TEMPLATE = (HOSTILE / "bounds.bpmn.template").read_text(encoding="utf-8")
ON_TIME = "'2026-03-21T10:00:00+05:00'"


def _engine(xml: str, file: str = "hostile.bpmn") -> ProcessEngine:
    library = DiagramLibrary()
    library.add(parse_diagram(xml.encode("utf-8"), file))
    return ProcessEngine(library, WorkingCalendar())


def _run_script(script: str) -> ScriptError:
    """Start the one-script diagram; the script must fail with a ScriptError naming its element."""
    engine = _engine(SCRIPT_TEMPLATE.replace("SCRIPT", escape(script)))
    with pytest.raises(ScriptError) as caught:
        engine.start("hostile_script", {}, NOW)
    error = caught.value
    assert (error.element_id, error.element_name) == ("attack", "Tries to escape the sandbox")
    assert error.file == "hostile.bpmn"
    assert "element 'attack' (Tries to escape the sandbox)" in str(error)
    return error


def _bounds(script: str = "x = 1", payload: str = '{"a": 1}', timer: str = ON_TIME) -> str:
    return (BOUNDS_TEMPLATE.replace("SCRIPT", escape(script)).replace("PAYLOAD", escape(payload))
            .replace("TIMER", escape(timer)))


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("x = sum(range(10**13))", "range of 10000000000000 items exceeds the limit of 1,000,000"),
        ("x = 10**10**8", "10 ** 100000000 would have about"),
        ("x = 1 << 10**9", "over the limit of 16,384"),
        ("x = 'x' * 10**10", "repeating a sequence would hold 10,000,000,000 items"),
        ("x = [0] * 10**9", "repeating a sequence would hold 1,000,000,000 items"),
        ("x = 'a'.ljust(10**10)", "ljust() to that width would hold 10,000,000,000"),
        ("x = b'a'.center(10**10)", "center() to that width"),
        ("x = '7'.zfill(10**10)", "zfill() to that width"),
        ("x = 'ab'\nfor i in range(3):\n    x = x.replace('a', 'a' * 1000)", "replace() would hold 1,000,001"),
        ("x = ('\\t' * 1000).expandtabs(10**6)", "expandtabs() would hold"),
        ("x = ('a' * 1000).translate({97: 'b' * 10**4})", "translate() would hold 10,000,000"),
        ("parts = ['x' * 100000 for i in range(20)]\nx = ''.join(parts)", "join() would hold 2,000,000"),
        ("x = '%10000000000d' % 1", "%-formatting: a width or precision of 10,000,000,000"),
        ("x = '%*d' % (10**10, 1)", "'*') is not allowed"),
        ("x = '{:>10000000000}'.format(1)", "format*() methods of `str` is not safe"),
        ("x = sorted(range(10**9))", "range of 1000000000 items"),
        ("x = (1).to_bytes(10**10, 'big')", "to_bytes() would hold 10,000,000,000"),
        ("x = round(5, -10**9)", "rounding to -1000000000 digits"),
        ("x = list(range(10**9))", "range of 1000000000 items"),
        ("x = [0] * 600000\nx += x", "joining two sequences would hold 1,200,000"),
        ("x = [0] * 600000\nx.extend(x)", "extend() would hold 1,200,000"),
        ("x = sum([[0]] * 10, [])", "sum() only adds numbers"),
        ("a = [[0] * 1000] * 999\nb = [[0] * 1000] * 999\nsame = a == b", "comparing ('==') values would hold"),
        ("a = [[0] * 1000] * 999\nx = str(a + a)", "joining two sequences"),
        ("x = 0\nwhile True:\n    x += 1", "script ran more than 100000 lines"),
        ("x = sum(map(sum, [range(10**6)] * 10**6))", "evaluation used more than the limit of 2 s of processor time"),
    ],
)
def test_each_bomb_is_refused_with_the_element_named(script: str, reason: str) -> None:
    error = _run_script(script)
    assert reason in error.message


def _resident_kib() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident size from /proc")
def test_memory_kept_line_by_line_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit watches the process's peak; an earlier test may have left that peak far above what is
    # in use now, so here the same check reads the memory in use, and the allowance is kept small.
    monkeypatch.setattr(limits, "_peak_rss_kib", _resident_kib)
    monkeypatch.setattr(limits, "_recent_peak", [0, float("-inf")])
    monkeypatch.setattr(limits, "MEMORY_GROWTH_KIB", 32 * 1024)
    error = _run_script("kept = []\nfor i in range(300):\n    kept.append('y' * 999000 + str(i))")
    assert "more than the limit of 32 MiB of memory" in error.message


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("try:\n    x = 1\nexcept Exception:\n    x = 2", "try statements are not allowed"),
        ("class Text(str):\n    pass", "class definitions are not allowed"),
        ("w = 10\nx = f'{1:>{w}}'", "format width taken from a variable"),
        ("x = f'{1:>10000000000}'", "format width over the limit"),
    ],
)
def test_constructs_that_would_slip_past_the_guards_are_refused_at_load(script: str, reason: str) -> None:
    with pytest.raises(DiagramError) as caught:
        parse_diagram(SCRIPT_TEMPLATE.replace("SCRIPT", escape(script)).encode("utf-8"), "hostile.bpmn")
    assert caught.value.element_id == "attack"
    assert reason in caught.value.message


@pytest.mark.parametrize("name", ["SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException"])
def test_base_exceptions_are_not_offered_to_diagram_code(name: str) -> None:
    error = _run_script(f"raise {name}")
    assert f"name '{name}' is not defined" in error.message


def test_a_base_exception_leaving_diagram_code_becomes_a_script_error() -> None:
    def leave() -> None:
        raise SystemExit(3)

    with pytest.raises(ScriptError, match="raised SystemExit, which is not allowed"):
        RestrictedEnvironment({"leave": leave}).evaluate("leave()", {})


def test_a_real_interrupt_still_stops_the_process() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        RestrictedEnvironment({"interrupted": interrupted}).evaluate("interrupted()", {})


def test_a_runtime_error_keeps_file_element_line_and_message() -> None:
    error = _run_script("a = 1\nb = 2\nc = missing_name + a")
    assert error.line_number == 3
    assert error.error_line == "c = missing_name + a"
    assert error.message == "NameError: name 'missing_name' is not defined"
    assert str(error) == ("hostile.bpmn, element 'attack' (Tries to escape the sandbox), script line 3: "
                          "NameError: name 'missing_name' is not defined")


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("x = range(3)", "variable 'x' holds a range, which cannot be stored; store a list"),
        ("x = {1, 2}", "variable 'x' holds a set, which cannot be stored; store a list"),
        ("def f():\n    return 1\nx = [f]", "variable 'x' at [0] holds a function, which cannot be stored"),
        ("x = {}.keys()", "variable 'x' holds a dict_keys"),
        ("x = zip([1], [2])", "variable 'x' holds a zip"),
        ("x = {'score': float('inf')}", "variable 'x' at ['score'] holds an infinite number (inf)"),
        ("x = [1, float('nan')]", "variable 'x' at [1] holds NaN (nan)"),
    ],
)
def test_unstorable_task_data_fails_the_script_task(script: str, reason: str) -> None:
    with pytest.raises(ScriptError) as caught:
        _engine(_bounds(script=script), "bounds.bpmn").start("bounds", {}, NOW)
    assert (caught.value.element_id, caught.value.element_name) == ("prepare", "Prepare the values")
    assert reason in caught.value.message


def test_an_infinite_number_in_a_message_payload_fails_the_throw_event() -> None:
    with pytest.raises(ScriptError) as caught:
        _engine(_bounds(payload='{"amount": float("inf")}'), "bounds.bpmn").start("bounds", {}, NOW)
    assert (caught.value.element_id, caught.value.element_name) == ("notify", "Notice sent")
    assert "message 'bounds.notice': the payload at ['amount'] holds an infinite number" in caught.value.message


@pytest.mark.parametrize(
    ("timer", "reason"),
    [
        ("'9999-12-31T23:59:59-12:00'", "cannot be represented in UTC"),
        ("'0001-01-01T00:00:00+05:00'", "cannot be represented in UTC"),
        ("'0000-01-01T00:00:00+05:00'", "is not an ISO 8601 instant"),
        ("'10000-01-01T00:00:00+05:00'", "is not an ISO 8601 instant"),
        ("'next Tuesday'", "is not an ISO 8601 instant"),
        ("'2026-03-21T10:00:00'", "an instant without an offset"),
        ("today()", "a date alone"),
        ("5", "gave int 5, not an ISO 8601 instant"),
    ],
)
def test_a_timer_that_is_not_a_representable_instant_fails_its_element(timer: str, reason: str) -> None:
    with pytest.raises(ScriptError) as caught:
        _engine(_bounds(timer=timer), "bounds.bpmn").start("bounds", {}, NOW)
    assert (caught.value.element_id, caught.value.element_name) == ("escalate", "Escalate the overdue review")
    assert reason in caught.value.message


def test_a_good_timer_and_payload_still_pass() -> None:
    run = _engine(_bounds(payload='{"amount": 2.5}'), "bounds.bpmn").start("bounds", {}, NOW)
    snapshot = run.snapshot()
    assert [t.element_id for t in snapshot.timers] == ["escalate"]
    assert [m.payload for m in snapshot.outgoing] == [{"amount": 2.5}]


def test_an_unstorable_value_stores_nothing(settings: Settings, tmp_path: Path) -> None:
    library = DiagramLibrary()
    library.add(parse_diagram(_bounds(script="x = range(3)").encode("utf-8"), "bounds.bpmn"))
    services: Services = build_services(settings, library=library)
    try:
        school = owners(services)
        with services.uow() as uow, pytest.raises(ScriptError, match="holds a range"):
            start_case(uow, services.runtime, process_id="bounds", business_key="BAD-1",
                       data={}, actor=SYSTEM, owners=school, now=NOW)
        with services.uow(write=False) as uow:
            assert uow.instances.count() == 0
    finally:
        services.database.dispose()


def test_ordinary_code_runs_unchanged_through_the_guards() -> None:
    script = (
        "n = 0\nn += 5\n"
        "ordered = sorted([3, 1, 2])\n"
        "by_minus = max([1, 5, 3], key=lambda v: -v)\n"
        "texts = list(map(str, [1, 2]))\n"
        "odd = list(filter(lambda v: v % 2, range(6)))\n"
        "joined = '-'.join(['a', 'b']) + '!' * 2\n"
        "padded = 'a'.rjust(4) + f'{7:03d}' + '%3d' % 5\n"
        "checks = [isinstance('a', str), isinstance([], (list, tuple)), 1 < 2 < 3, 'a' in {'a': 1}]\n"
        "power = 2 ** 10 + (1 << 4)\n"
        "total = sum(v * 2 for v in range(4))\n"
        "pairs = [[1, 2]] * 2 + [[3]]"
    )
    run = _engine(SCRIPT_TEMPLATE.replace("SCRIPT", escape(script))).start("hostile_script", {}, NOW)
    data = run.snapshot().data
    assert (data["n"], data["ordered"], data["by_minus"], data["texts"], data["odd"]) == (5, [1, 2, 3], 1, ["1", "2"],
                                                                                          [1, 3, 5])
    assert (data["joined"], data["padded"], data["checks"]) == ("a-b!!", "   a007  5", [True, True, True, True])
    assert (data["power"], data["total"], data["pairs"]) == (1040, 12, [[1, 2], [1, 2], [3]])


def test_a_bad_value_left_behind_in_an_earlier_step_is_caught_when_the_state_is_written() -> None:
    run = _engine(_bounds(), "bounds.bpmn").start("bounds", {}, NOW)
    [prepared] = [task for task in run._workflow.get_tasks() if task.task_spec.name == "prepare"]
    prepared.data["ratio"] = float("nan")  # as if a later script had dropped it from the live data again
    with pytest.raises(ScriptError) as caught:
        run.dump()
    assert (caught.value.element_id, caught.value.element_name) == ("prepare", "Prepare the values")
    assert "variable 'ratio' holds NaN" in caught.value.message


def test_an_infinite_number_in_a_received_message_fails_the_catching_event() -> None:
    library = DiagramLibrary()
    library.add(parse_diagram((Path(__file__).parent / "diagrams" / "offer_demo.bpmn").read_bytes(), "offer_demo.bpmn"))
    run = ProcessEngine(library, WorkingCalendar()).start("offer_demo", {}, NOW)
    with pytest.raises(ScriptError) as caught:  # json.loads accepts "Infinity", so a gateway could send one
        run.deliver_message("conclusion_registered", {"phone": "+77010000000", "score": float("inf")}, NOW)
    assert (caught.value.element_id, caught.value.element_name) == ("conclusion_received", "Conclusion registered")
    assert "variable 'conclusion' at ['score'] holds an infinite number" in caught.value.message


def test_a_case_saved_with_an_unrepresentable_timer_fails_naming_it_when_resumed() -> None:
    engine = _engine(_bounds(), "bounds.bpmn")
    state = engine.start("bounds", {}, NOW).dump()
    assert "2026-03-21T10:00:00+05:00" in state
    poisoned = state.replace("2026-03-21T10:00:00+05:00", "9999-12-31T23:59:59-12:00")  # saved before the check
    with pytest.raises(ScriptError) as caught:
        engine.resume(engine.library.current("bounds"), poisoned)
    assert (caught.value.element_id, caught.value.element_name) == ("escalate", "Escalate the overdue review")
    assert "cannot be represented in UTC" in caught.value.message
