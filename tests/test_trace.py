"""The traceability report: paragraph → diagram elements → scenarios → results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.application.declarations import load_process_declarations
from service.application.trace import ParagraphTrace, build_trace
from service.cli import main
from service.engine.library import DiagramLibrary

from .support import PROJECT

FEATURE = """# language: ru
Функция: §5 — обращение через портал
  > цитата

  Правило: два рабочих дня
    Пример: запрос в пятницу перед Наурызом
      Дано запрос
      Когда проходит время
      Тогда срок истекает
"""


def _rows(tmp_path: Path, report: Path | None = None) -> dict[str, ParagraphTrace]:
    library = DiagramLibrary.from_directory(PROJECT / "processes")
    rules = load_process_declarations(PROJECT / "processes").rules()  # the paragraphs the processes declare
    return {row.paragraph: row for row in build_trace(library.diagrams(), tmp_path, report, rules=rules)}


def test_every_paragraph_of_the_service_is_carried_out_by_the_diagrams(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    for paragraph in ("§4", "§5", "§6", "§7", "§7-1"):
        assert rows[paragraph].elements, paragraph
    assert "service_delivery:check_portal_request" in rows["§5"].elements
    assert "proactive_offer:reply_window_closed" in rows["§7-1"].elements
    assert rows["§1"].definition and not rows["§4"].definition


def test_scenarios_and_their_results_come_from_features_and_the_report(tmp_path: Path) -> None:
    (tmp_path / "p05.feature").write_text(FEATURE, encoding="utf-8")
    report = tmp_path / "cucumber.json"
    report.write_text(json.dumps([{"uri": "features/p05.feature", "elements": [
        {"name": "запрос в пятницу перед Наурызом", "steps": [{"result": {"status": "passed"}}] * 3},
    ]}]), encoding="utf-8")
    rows = _rows(tmp_path, report)
    label = "p05.feature: запрос в пятницу перед Наурызом"
    assert rows["§5"].scenarios == [label]
    assert rows["§5"].results == {label: "passed"}
    assert rows["§6"].scenarios == []


# --- the command ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty directory, so no reports/cucumber.json of an earlier run is picked up."""
    monkeypatch.chdir(tmp_path)


def _trace(tmp_path: Path, *args: str) -> Result:
    """``homeschool trace ARGS`` on the shipped diagrams and features."""
    env = {"HOMESCHOOL_PROCESSES_DIR": str(PROJECT / "processes"),
           "HOMESCHOOL_FEATURES_DIR": str(PROJECT / "features"),
           "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance")}
    return CliRunner().invoke(main, ["trace", *args], env=env, catch_exceptions=False)


def _report(tmp_path: Path, status: str, feature: str = "p05_portal.feature") -> Path:
    """A Cucumber report with one scenario of ``feature`` whose steps all ended with ``status``."""
    report = tmp_path / "cucumber.json"
    report.write_text(json.dumps([{"uri": f"features/{feature}", "elements": [
        {"name": "какой-то сценарий", "steps": [{"result": {"status": "passed"}}, {"result": {"status": status}}]},
    ]}]), encoding="utf-8")
    return report


def test_trace_without_a_report_shows_scenarios_not_run_and_judges_coverage_only(tmp_path: Path) -> None:
    result = _trace(tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "[not run]" in result.stdout and "[failed]" not in result.stdout


@pytest.mark.parametrize("content", [None, "{not json", "{\"uri\": \"x\"}", "[]", "[{\"elements\": [1]}]"])
def test_trace_refuses_a_missing_or_unreadable_report(tmp_path: Path, content: str | None) -> None:
    report = tmp_path / "cucumber.json"
    if content is not None:
        report.write_text(content, encoding="utf-8")
    result = _trace(tmp_path, "--report", str(report))
    assert result.exit_code == 1, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith(f"homeschool: error: {report}: "), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_trace_fails_when_a_scenario_of_the_report_failed_even_one_no_paragraph_traces(tmp_path: Path) -> None:
    result = _trace(tmp_path, "--report", str(_report(tmp_path, "failed", feature="not_a_paragraph.feature")))
    assert result.exit_code == 1
    assert "failed in" in result.stderr and "not_a_paragraph.feature: какой-то сценарий" in result.stderr


def test_trace_passes_on_a_report_where_every_scenario_passed(tmp_path: Path) -> None:
    result = _trace(tmp_path, "--report", str(_report(tmp_path, "passed")))
    assert result.exit_code == 0, result.stderr
