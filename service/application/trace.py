"""Traceability: for each paragraph of the Rules, the diagram elements and the scenarios that cover it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from service.engine.library import Diagram

#: The paragraphs of the Rules, in order, with what each is about.
PARAGRAPHS: tuple[tuple[str, str], ...] = (
    ("§1", "legal basis of the Rules"),
    ("§2", "the term 'proactive service'"),
    ("§3", "who provides the service"),
    ("§4", "applying at the office; receipt; reasoned refusal"),
    ("§5", "applying through the portal; two working days"),
    ("§6", "the head determines grade and language; specialists organise schooling"),
    ("§7", "the admission order"),
    ("§7-1", "proactive provision; 24 hours for consent"),
    ("§8", "stages reported to the monitoring information system"),
    ("§9", "complaints and their review periods"),
    ("§10", "going to court"),
)
#: Paragraphs that define terms or name the law; they carry no behaviour of their own.
DEFINITIONS = frozenset({"§1", "§2", "§3"})

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

    @property
    def definition(self) -> bool:
        """Whether this paragraph only defines terms (no behaviour to carry out)."""
        return self.paragraph in DEFINITIONS

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


def _results(report: Path | None) -> dict[tuple[str, str], str]:
    """(feature file, scenario name) → passed/failed, from a Cucumber JSON report if there is one."""
    if report is None or not report.is_file():
        return {}
    outcome: dict[tuple[str, str], str] = {}
    for feature in json.loads(report.read_text(encoding="utf-8")):
        name = Path(feature.get("uri", "")).name
        for element in feature.get("elements", []):
            statuses = [step.get("result", {}).get("status") for step in element.get("steps", [])]
            status = "passed" if statuses and all(s == "passed" for s in statuses) else "failed"
            outcome[(name, element.get("name", "").strip())] = status
    return outcome


def build_trace(diagrams: list[Diagram], features_dir: Path, report: Path | None = None) -> list[ParagraphTrace]:
    """The traceability table: every paragraph with its elements, scenarios and last results."""
    scenarios = _feature_scenarios(features_dir)
    results = _results(report)
    table = []
    for paragraph, subject in PARAGRAPHS:
        row = ParagraphTrace(paragraph, subject)
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
