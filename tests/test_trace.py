"""The traceability report: paragraph → diagram elements → scenarios → results."""

from __future__ import annotations

import json
from pathlib import Path

from service.application.trace import build_trace
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


def _rows(tmp_path: Path, report: Path | None = None) -> dict[str, object]:
    library = DiagramLibrary.from_directory(PROJECT / "processes")
    return {row.paragraph: row for row in build_trace(library.diagrams(), tmp_path, report)}


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
