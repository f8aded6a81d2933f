"""The legal team's document: paragraph → Kazakh text → obligations → scenarios and results → diagram elements."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.application.legal import build_legal_document, legal_document_html, read_feature
from service.cli import main
from service.domain.regulation import FAILED, NOT_RUN, PASSED, LegalDocument
from service.domain.time import ALMATY
from service.engine.library import Diagram, DiagramLibrary

from .support import PROJECT

RULES = PROJECT / "docs" / "regulation" / "rules.kk.txt"

#: A §5 feature: two rules, elements named by name (one that no diagram has), three scenarios.
FEATURE = """# language: ru
Функция: §5 — обращение через веб-портал
  > цитата

  Правило: Услугодатель обрабатывает электронный запрос в течение двух рабочих дней
    На схеме: «Проверить и зарегистрировать электронный запрос», «Два рабочих дня истекли»

    Пример: запрос в пятницу перед Наурызом
      Дано запрос
      Тогда срок истекает

    Пример: запрос после окончания рабочего дня
      Дано запрос
      Тогда срок истекает позже

  Правило: Отказ — мотивированный отказ в личный кабинет
    На схеме: «Мотивированный отказ (приложение 2)»
    На схеме: «Нет такого элемента»

    Пример: сведения недостоверны
      Дано запрос
      Тогда отказ
"""
#: When the report below was written: 20 March 2026, 17:05 in Almaty.
RUN_AT = datetime(2026, 3, 20, 17, 5, tzinfo=ALMATY)


@pytest.fixture(scope="module")
def diagrams() -> list[Diagram]:
    return DiagramLibrary.from_directory(PROJECT / "processes").diagrams()


def _features(tmp_path: Path) -> Path:
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "p05_portal.feature").write_text(FEATURE, encoding="utf-8")
    return folder


def _report(tmp_path: Path, results: dict[str, str]) -> Path:
    """A Cucumber report of p05_portal.feature's scenarios (name → status of their last step), dated RUN_AT."""
    report = tmp_path / "cucumber.json"
    report.write_text(json.dumps([{"uri": "features/p05_portal.feature", "elements": [
        {"name": name, "steps": [{"result": {"status": "passed"}}, {"result": {"status": status}}]}
        for name, status in results.items()
    ]}]), encoding="utf-8")
    os.utime(report, (RUN_AT.timestamp(), RUN_AT.timestamp()))
    return report


@pytest.fixture
def document(tmp_path: Path, diagrams: list[Diagram]) -> LegalDocument:
    report = _report(tmp_path, {"запрос в пятницу перед Наурызом": "passed", "сведения недостоверны": "failed"})
    return build_legal_document(diagrams, _features(tmp_path), report, RULES)


def test_a_rule_has_its_scenarios_and_the_names_under_it(tmp_path: Path) -> None:
    paragraph, feature = read_feature(_features(tmp_path) / "p05_portal.feature") or ("", None)
    assert paragraph == "5" and feature is not None and feature.title == "обращение через веб-портал"
    first, second = feature.rules
    assert first.scenarios == ["запрос в пятницу перед Наурызом", "запрос после окончания рабочего дня"]
    assert first.named == ["Проверить и зарегистрировать электронный запрос", "Два рабочих дня истекли"]
    assert second.scenarios == ["сведения недостоверны"]
    assert second.named == ["Мотивированный отказ (приложение 2)", "Нет такого элемента"]


def test_each_paragraph_has_its_kazakh_text_and_one_line_per_rule(document: LegalDocument) -> None:
    paragraphs = {p.paragraph: p for p in document.paragraphs}
    assert list(paragraphs) == ["§1", "§2", "§3", "§4", "§5", "§6", "§7", "§7-1", "§8", "§9", "§10"]
    portal = paragraphs["§5"]
    assert portal.kazakh.startswith('5. "Электрондық үкімет" веб-порталы арқылы жүгінген кезде')
    assert portal.kazakh.endswith("талап етуге жол берілмейді.")
    assert [o.title for o in portal.obligations] == [
        "Услугодатель обрабатывает электронный запрос в течение двух рабочих дней",
        "Отказ — мотивированный отказ в личный кабинет",
    ]
    assert paragraphs["§6"].obligations == ()  # no feature for it in this folder
    assert paragraphs["§10"].kazakh.startswith("10. Мемлекеттік қызметті көрсету нәтижелерімен")


def test_results_come_from_the_report_and_the_date_from_when_it_was_written(document: LegalDocument) -> None:
    deadline, refusal = document.paragraphs[4].obligations
    assert [(s.name, s.result) for s in deadline.scenarios] == [
        ("запрос в пятницу перед Наурызом", PASSED), ("запрос после окончания рабочего дня", NOT_RUN)]
    assert deadline.result == NOT_RUN and refusal.result == FAILED
    assert document.run_at == RUN_AT


def test_without_a_report_every_scenario_is_not_run_and_there_is_no_date(tmp_path: Path,
                                                                          diagrams: list[Diagram]) -> None:
    document = build_legal_document(diagrams, _features(tmp_path), None, RULES)
    assert document.run_at is None
    assert {s.result for o in document.paragraphs[4].obligations for s in o.scenarios} == {NOT_RUN}


def test_elements_are_found_by_name_those_citing_the_paragraph_first(document: LegalDocument) -> None:
    deadline, refusal = document.paragraphs[4].obligations
    assert [(e.process_id, e.element_id) for e in deadline.elements] == [
        ("service_delivery", "check_portal_request"), ("service_delivery", "portal_deadline_passed")]
    assert deadline.element_names == ("Проверить и зарегистрировать электронный запрос", "Два рабочих дня истекли")
    # Two elements are named «Мотивированный отказ (приложение 2)»; only the portal's cites §5.
    assert [e.element_id for e in refusal.elements] == ["issue_portal_refusal"]
    assert refusal.unknown == ("Нет такого элемента",)
    assert document.broken_links() == ["§5 «Отказ — мотивированный отказ в личный кабинет»: «Нет такого элемента»"]


def test_a_name_no_element_citing_the_paragraph_has_stands_for_every_element_of_that_name(
        tmp_path: Path, diagrams: list[Diagram]) -> None:
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "p10.feature").write_text(
        "Функция: §10 — суд\n  Правило: Отказ разъясняет право на суд\n"
        "    На схеме: «Мотивированный отказ (приложение 2)»\n    Пример: отказ\n      Дано отказ\n",
        encoding="utf-8")
    [rule] = build_legal_document(diagrams, folder).paragraphs[-1].obligations
    assert {e.element_id for e in rule.elements} >= {"issue_office_refusal", "issue_portal_refusal"}
    assert rule.element_names == ("Мотивированный отказ (приложение 2)",)


def test_every_name_in_the_shipped_features_is_a_diagram_element(diagrams: list[Diagram]) -> None:
    document = build_legal_document(diagrams, PROJECT / "features")
    assert document.broken_links() == []
    assert any(o.elements for p in document.paragraphs for o in p.obligations)


def test_the_printable_page_has_the_kazakh_text_the_rules_their_results_and_the_marked_diagram(
        document: LegalDocument, diagrams: list[Diagram]) -> None:
    html = legal_document_html(document, diagrams, "ru", RUN_AT)
    assert "Көрсетілетін қызметті беруші екі жұмыс күні ішінде көрсетілетін қызметті алушының" in html
    assert "Услугодатель обрабатывает электронный запрос в течение двух рабочих дней" in html
    assert re.search(r'class="result passed">пройден</span>\s*запрос в пятницу перед Наурызом', html)
    assert re.search(r'class="result not-run">не запускался</span>\s*запрос после окончания рабочего дня', html)
    assert re.search(r'class="result failed">не пройден</span>\s*сведения недостоверны', html)
    assert "20 марта 2026 года, 17:05" in html  # the date of the run
    assert "<li>Два рабочих дня истекли</li>" in html  # element names, not ids
    assert "«Нет такого элемента» — элемента с таким названием на схемах нет" in html
    assert re.search(r'<g class="node userTask cited" data-element-id="check_portal_request"', html)
    assert not re.search(r'<g class="node [^"]*cited" data-element-id="issue_office_refusal"', html)
    # Self-contained: nothing is fetched from anywhere, and it prints on A4.
    assert not re.search(r"""(src|href)\s*=|@import|url\((?!#)""", html)
    assert "@page" in html


def test_the_printable_page_in_kazakh(document: LegalDocument, diagrams: list[Diagram]) -> None:
    html = legal_document_html(document, diagrams, "kk", RUN_AT)
    assert '<html lang="kk">' in html and "2026 жылғы 20 наурыз, 17:05" in html
    assert re.search(r'class="result failed">өтпеді</span>\s*сведения недостоверны', html)


# --- the command ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty directory, so no reports/cucumber.json of an earlier run is picked up."""
    monkeypatch.chdir(tmp_path)


def _trace(tmp_path: Path, *args: str, features: Path = PROJECT / "features", rules: Path = RULES) -> Result:
    """``homeschool trace ARGS`` on the shipped diagrams."""
    env = {"HOMESCHOOL_PROCESSES_DIR": str(PROJECT / "processes"), "HOMESCHOOL_FEATURES_DIR": str(features),
           "HOMESCHOOL_RULES_FILE": str(rules), "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance")}
    return CliRunner().invoke(main, ["trace", *args], env=env, catch_exceptions=False)


def test_trace_writes_the_printable_page(tmp_path: Path) -> None:
    out = tmp_path / "rules.html"
    result = _trace(tmp_path, "--html", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    assert "    rule      Услугодатель обрабатывает электронный запрос в течение двух рабочих дней → " \
           "«Проверить и зарегистрировать электронный запрос», «Два рабочих дня истекли»" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert "Көрсетілетін қызметті беруші екі жұмыс күні ішінде" in html
    assert "Отчёта о прогоне сценариев нет" in html


def test_trace_writes_a_pdf(tmp_path: Path) -> None:
    out = tmp_path / "rules.pdf"
    result = _trace(tmp_path, "--pdf", str(out), "--language", "kk")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert "Step 5" not in result.stderr  # WeasyPrint's progress is not shown


def test_trace_fails_on_a_name_no_diagram_element_has(tmp_path: Path) -> None:
    result = _trace(tmp_path, features=_features(tmp_path))
    assert result.exit_code == 1
    assert "no diagram element has this name: §5 «Отказ — мотивированный отказ в личный кабинет»: " \
           "«Нет такого элемента»" in result.stderr


def test_trace_refuses_in_one_line_when_the_rules_text_is_missing(tmp_path: Path) -> None:
    result = _trace(tmp_path, "--html", str(tmp_path / "rules.html"), rules=tmp_path / "nowhere.txt")
    assert result.exit_code == 1
    assert result.stderr.startswith("homeschool: error: ") and "nowhere.txt" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "rules.html").exists()


def test_trace_refuses_in_one_line_when_the_page_cannot_be_written(tmp_path: Path) -> None:
    result = _trace(tmp_path, "--html", str(tmp_path / "no-such-folder" / "rules.html"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("homeschool: error: cannot write the legal document")
