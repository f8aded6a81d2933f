"""The corpus of typical analyst mistakes (tests/analyst_mistakes/): each one is caught, its element named.

Each mistake is a small edit of a copy of a shipped diagram; the validator must report a problem
of the expected kind naming the expected element, with a line and what to do.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service import bootstrap
from service.application.validation import validate_files
from service.cli import main
from service.config import Settings
from service.domain.problems import Problem

CORPUS = Path(__file__).parent / "analyst_mistakes"
BASE = CORPUS / "base"
MISTAKES: list[dict[str, Any]] = tomllib.loads((CORPUS / "mistakes.toml").read_text(encoding="utf-8"))["mistake"]
ROOT = Path(__file__).parent.parent
#: The settings diagrams read with setting(name), as the command passes them.
PROCESS_SETTINGS = bootstrap.process_settings(Settings.from_env())


def make_mistake(mistake: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the base diagrams with the mistake made in one of them; returns that file."""
    processes = tmp_path / "processes"
    shutil.copytree(BASE / "processes", processes)
    if "minimal" in mistake:
        return Path(shutil.copy(CORPUS / "minimal" / mistake["minimal"], processes))
    target = processes / f"{mistake['diagram']}.bpmn"
    text = target.read_text(encoding="utf-8")
    for edit in mistake["edits"]:
        old, new = edit[0], edit[1]
        if len(edit) < 3:
            assert text.count(old) == 1, f"{mistake['name']}: {old!r} occurs {text.count(old)} times"
        assert old in text, f"{mistake['name']}: {old!r} not in the base diagram"
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
    return target


def test_the_corpus_has_at_least_20_mistakes_each_in_the_readme() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    names = [m["name"] for m in MISTAKES]
    assert len(names) >= 20 and len(set(names)) == len(names)
    assert [name for name in names if f"`{name}`" not in readme] == []


def test_the_base_diagrams_have_no_errors() -> None:
    problems = validate_files(None, BASE / "forms", processes_dir=BASE / "processes", checks=[])
    assert [p.describe() for p in problems if p.is_error] == []


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m["name"] for m in MISTAKES])
def test_each_mistake_is_caught_naming_its_element(mistake: dict[str, Any], tmp_path: Path) -> None:
    target = make_mistake(mistake, tmp_path)
    problems = validate_files([target], BASE / "forms", processes_dir=target.parent, checks=[],
                              process_settings=PROCESS_SETTINGS)
    severity = mistake.get("severity", "error")
    found = [p for p in problems if p.kind == mistake["kind"] and p.element_id == mistake["element"]]
    assert found, [f"{p.kind} {p.describe()}" for p in problems]
    problem: Problem = found[0]
    assert problem.severity == severity
    assert problem.file == f"processes/{mistake.get('minimal') or mistake['diagram'] + '.bpmn'}"
    assert problem.line is not None and problem.hint
    assert (severity == "error") == any(p.is_error for p in problems)


def test_the_command_exits_1_and_prints_json_naming_the_element(tmp_path: Path) -> None:
    mistake = next(m for m in MISTAKES if m["name"] == "condition-variable-typo")
    target = make_mistake(mistake, tmp_path)
    env = {"HOMESCHOOL_PROCESSES_DIR": str(target.parent), "HOMESCHOOL_FORMS_DIR": str(BASE / "forms"),
           "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance")}
    result = CliRunner().invoke(main, ["validate", "--json", str(target)], env=env, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)
    [typo] = [p for p in problems if p["kind"] == "variable-unknown"]
    assert typo["element_id"] == "accept_portal" and "'decison'" in typo["message"]
    assert "did you mean 'decision'" in typo["hint"]
    assert typo["file"] == "processes/service_delivery.bpmn" and typo["severity"] == "error"


def test_a_warning_alone_does_not_fail_the_command(tmp_path: Path) -> None:
    mistake = next(m for m in MISTAKES if m["name"] == "camunda-candidate-groups")
    target = make_mistake(mistake, tmp_path)
    env = {"HOMESCHOOL_PROCESSES_DIR": str(target.parent), "HOMESCHOOL_FORMS_DIR": str(BASE / "forms"),
           "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance")}
    result = CliRunner().invoke(main, ["validate", str(target)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "warn  processes/complaint_review.bpmn" in result.stdout and "candidateGroups" in result.stdout


def test_every_problem_of_a_file_is_reported_not_only_the_first(tmp_path: Path) -> None:
    mistake = {"name": "three", "diagram": "service_delivery", "edits": [
        ['decision == "accept"', 'decison == "accept"'],
        ['working_deadline(request["received_at"], 2)', 'today()'],
        ['<bpmn:exclusiveGateway id="portal_decision" name="Принять?" default="refuse_portal">',
         '<bpmn:exclusiveGateway id="portal_decision" name="Принять?">'],
        ['<bpmn:flowNodeRef>check_portal_request</bpmn:flowNodeRef>', ''],
    ]}
    target = make_mistake(mistake, tmp_path)
    problems = validate_files([target], BASE / "forms", processes_dir=target.parent, checks=[])
    kinds = {p.kind for p in problems}
    assert {"gateway-default", "timer", "variable-unknown", "task-without-lane"} <= kinds, kinds


def test_duplicate_ids_point_at_both_occurrences(tmp_path: Path) -> None:
    mistake = next(m for m in MISTAKES if m["name"] == "duplicate-id")
    target = make_mistake(mistake, tmp_path)
    problems = [p for p in validate_files([target], BASE / "forms", processes_dir=target.parent, checks=[])
                if p.kind == "duplicate-id"]
    assert len(problems) == 2
    first, second = sorted(problems, key=lambda p: p.line or 0)
    assert f"line {second.line}" in first.message and f"line {first.line}" in second.message
    assert not any("xs:ID" in p.message for p in problems)


def test_a_broken_file_causes_no_false_error_in_an_untouched_one(tmp_path: Path) -> None:
    processes = tmp_path / "processes"
    shutil.copytree(BASE / "processes", processes)
    (processes / "service_delivery.bpmn").write_text("<bpmn:definitions", encoding="utf-8")
    problems = validate_files(None, BASE / "forms", processes_dir=processes, checks=[])
    assert {p.file for p in problems if p.is_error} == {"processes/service_delivery.bpmn"}, [
        p.describe() for p in problems]
    # validated alone, the untouched diagram (which throws 'service_requested' to the broken one) is clean
    alone = validate_files([processes / "proactive_offer.bpmn"], BASE / "forms", processes_dir=processes, checks=[])
    assert [p.describe() for p in alone if p.is_error] == []


def test_a_draft_beside_the_deployed_diagrams_is_their_new_version(tmp_path: Path) -> None:
    mistake = next(m for m in MISTAKES if m["name"] == "condition-variable-typo")
    draft = tmp_path / "draft" / "service_delivery.bpmn"
    draft.parent.mkdir()
    make_mistake(mistake, tmp_path).rename(draft)
    processes = tmp_path / "deployed"
    shutil.copytree(BASE / "processes", processes)
    problems = validate_files([draft], BASE / "forms", processes_dir=processes, checks=[])
    assert {p.kind for p in problems if p.is_error} == {"variable-unknown"}, [p.describe() for p in problems]
    assert {p.file for p in problems} == {"draft/service_delivery.bpmn"}  # named from the processes' parent


def test_the_shipped_diagrams_have_no_errors() -> None:
    problems = validate_files(None, ROOT / "forms", processes_dir=ROOT / "processes",
                              process_settings=PROCESS_SETTINGS)
    assert [p.describe() for p in problems if p.is_error] == []


def test_lint_checks_plug_in_and_their_diagram_errors_become_problems(tmp_path: Path) -> None:
    from service.domain.errors import DiagramError

    def no_gateway_join_fork(diagram: Any) -> list[DiagramError]:
        error = DiagramError("gateway joins and forks", file=diagram.file, element_id="route_by_channel", line=96)
        error.severity = "warning"  # type: ignore[attr-defined]
        return [error]

    target = make_mistake({"name": "none", "diagram": "service_delivery", "edits": []}, tmp_path)
    problems = validate_files([target], BASE / "forms", processes_dir=target.parent, checks=[no_gateway_join_fork])
    [lint] = problems
    assert (lint.kind, lint.severity, lint.element_id, lint.line) == ("lint", "warning", "route_by_channel", 96)


def test_every_kind_of_problem_the_corpus_finds_has_a_title_in_three_languages() -> None:
    from service.domain.problems import KINDS_WITH_TITLE, kind_title

    kinds = {m["kind"] for m in MISTAKES}
    assert kinds <= set(KINDS_WITH_TITLE), kinds - set(KINDS_WITH_TITLE)
    assert kind_title("variable-unknown", "ru") == "Переменная не задана"
    assert kind_title("bpmnlint/fake-join", "en") == "bpmnlint finding"
    assert kind_title("layout-label-crossed", "kk") == "Сызбадағы орналасу"
    for language in ("kk", "ru", "en"):
        assert all(kind_title(kind, language).strip() not in ("", kind) for kind in KINDS_WITH_TITLE), language
