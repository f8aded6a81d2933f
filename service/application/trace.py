"""Traceability: for each paragraph of the Rules, the diagram elements and the scenarios that cover it.

The paragraphs are those the processes declare they carry out (``[[rules]]`` in
``processes/<process>.process.toml``), each with its subject and whether it only defines terms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.domain.declarations import Paragraph
from service.domain.errors import DomainError
from service.engine.library import Diagram

_PARAGRAPH = re.compile(r"§\s*(\d+(?:-\d+)?)")
_FEATURE = re.compile(r"^\s*(Функция|Функционал|Feature)\s*:\s*(.*)$")
_SCENARIO = re.compile(r"^\s*(Пример|Сценарий|Scenario|Example)\s*:\s*(.*)$")


@dataclass
class ParagraphTrace:
    """One paragraph: where the diagrams carry it out, which scenarios check it, how they last fared."""

    paragraph: str
    subject: str
    elements: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)
    #: Whether this paragraph only defines terms (no behaviour to carry out).
    definition: bool = False

    @property
    def covered(self) -> bool:
        """Whether anything carries out or checks this paragraph."""
        return bool(self.elements or self.scenarios)


def _feature_scenarios(features_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """paragraph → [(feature file, scenario name)] from each feature's title."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(features_dir.rglob("*.feature")) if features_dir.is_dir() else []:
        paragraph = None
        for line in path.read_text(encoding="utf-8").splitlines():
            title = _FEATURE.match(line)
            if title:
                match = _PARAGRAPH.search(title.group(2))
                paragraph = f"§{match.group(1)}" if match else None
                continue
            scenario = _SCENARIO.match(line)
            if scenario and paragraph:
                found.setdefault(paragraph, []).append((path.name, scenario.group(2).strip()))
    return found


class ReportError(DomainError):
    """A Cucumber report that is missing, unreadable or not a list of features."""


def _load_report(report: Path) -> list[Any]:
    """The features of a Cucumber JSON report; ReportError if it cannot be read as one."""
    try:
        features = json.loads(report.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{report}: no such report; run the features first") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"{report}: cannot read the report ({exc})") from None
    if not isinstance(features, list):
        raise ReportError(f"{report}: not a Cucumber JSON report (a list of features)")
    return features


def _status(element: dict[str, Any]) -> str:
    """passed if the scenario has steps and every one passed, else failed."""
    statuses = [step.get("result", {}).get("status") for step in element.get("steps", [])]
    return "passed" if statuses and all(s == "passed" for s in statuses) else "failed"


def read_report(report: Path) -> dict[tuple[str, str], str]:
    """(feature file, scenario name) → passed/failed; ReportError if unreadable or it records no scenario."""
    outcome: dict[tuple[str, str], str] = {}
    try:
        for feature in _load_report(report):
            name = Path(str(feature.get("uri", ""))).name
            for element in feature.get("elements", []):
                outcome[(name, str(element.get("name", "")).strip())] = _status(element)
    except (AttributeError, TypeError):
        raise ReportError(f"{report}: not a Cucumber JSON report (a scenario or step is malformed)") from None
    if not outcome:
        raise ReportError(f"{report}: the report records no scenario; the feature run did not happen or broke")
    return outcome


def failed_scenarios(results: dict[tuple[str, str], str]) -> list[str]:
    """'feature: scenario' for every scenario of a report that did not pass, traced or not."""
    return [f"{feature}: {scenario}" for (feature, scenario), status in results.items() if status != "passed"]


def build_trace(diagrams: list[Diagram], features_dir: Path, report: Path | None = None, *,
                rules: Sequence[Paragraph]) -> list[ParagraphTrace]:
    """The traceability table: every paragraph of ``rules`` (the declared ones) with its elements, scenarios
    and last results.

    Without a report every scenario is 'not run'; a report that cannot be read raises ReportError.
    """
    scenarios = _feature_scenarios(features_dir)
    results = read_report(report) if report is not None else {}
    table = []
    for declared in rules:
        paragraph = declared.paragraph
        row = ParagraphTrace(paragraph, declared.subject, definition=declared.definition)
        for diagram in diagrams:
            row.elements += [
                f"{diagram.process_id}:{element.element_id}"
                for element in diagram.elements.values()
                if paragraph in element.paragraphs
            ]
        for feature, scenario in scenarios.get(paragraph, []):
            label = f"{feature}: {scenario}"
            row.scenarios.append(label)
            if (feature, scenario) in results:
                row.results[label] = results[(feature, scenario)]
        table.append(row)
    return table
