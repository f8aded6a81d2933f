"""The legal team's living document: paragraph → Kazakh text → obligations → scenarios → diagram elements.

Each paragraph's feature states its obligations as ``Правило:`` blocks. Under a rule's title, a
line ``На схеме: «name», «name»`` names the diagram elements that carry the obligation out, by
the names people see on the diagram. A name stands for the elements of that name that cite the
rule's paragraph (``§N`` in their documentation); if none of them has it, for every element of that
name; if no element has it at all, the link is broken and ``homeschool trace`` fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from service.documents.legal import render_legal_html, render_legal_pdf
from service.domain.errors import InvalidInput
from service.domain.regulation import (
    NOT_RUN,
    PARAGRAPH_NUMBERS,
    CarryingElement,
    Drawing,
    LegalDocument,
    Obligation,
    ParagraphObligations,
    ScenarioResult,
    split_paragraphs,
)
from service.domain.staff import Actor
from service.domain.time import ALMATY
from service.engine.library import Diagram
from service.engine.svg import render_svg

from .access import check_legal_reader
from .trace import ReportError, read_report

#: The mark the diagram drawing gives an element that carries an obligation.
CITED = "cited"

_FEATURE = re.compile(r"^\s*(?:Функция|Функционал|Feature)\s*:\s*(.*)$")
_TITLE = re.compile(r"^§\s*(\d+(?:-\d+)?)\s*(?:[—–-]\s*)?(.*)$")
_RULE = re.compile(r"^\s*(?:Правило|Rule)\s*:\s*(.*)$")
_SCENARIO = re.compile(r"^\s*(?:Пример|Сценарий|Структура сценария|Шаблон сценария|Scenario Outline|Scenario|Example)"
                       r"\s*:\s*(.*)$")
_ON_DIAGRAM = re.compile(r"^\s*На схеме\s*:\s*(.*)$")
_QUOTED = re.compile(r"«([^«»]+)»")


@dataclass
class WrittenRule:
    """A `Правило:` as written in a feature: its title, line, scenario names and the element names under it."""

    title: str
    line: int
    scenarios: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)


@dataclass
class WrittenFeature:
    """A paragraph's feature as written: its file, its title after §N and its rules."""

    file: str
    title: str
    rules: list[WrittenRule] = field(default_factory=list)


def read_feature(path: Path) -> tuple[str, WrittenFeature] | None:
    """The paragraph a feature file is about ('5', '7-1') and its rules; None if its title cites none."""
    paragraph: str | None = None
    feature: WrittenFeature | None = None
    rule: WrittenRule | None = None
    in_description = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if (title := _FEATURE.match(line)) and (cited := _TITLE.match(title.group(1).strip())):
            paragraph, feature = cited.group(1), WrittenFeature(path.name, cited.group(2).strip())
        elif feature is None:
            continue
        elif match := _RULE.match(line):
            rule = WrittenRule(match.group(1).strip(), number)
            feature.rules.append(rule)
            in_description = True
        elif match := _SCENARIO.match(line):
            if rule is None:  # scenarios before any rule check the feature as a whole
                rule = WrittenRule(feature.title, number)
                feature.rules.append(rule)
            rule.scenarios.append(match.group(1).strip())
            in_description = False
        elif in_description and rule is not None and (match := _ON_DIAGRAM.match(line)):
            rule.named += [name.strip() for name in _QUOTED.findall(match.group(1))]
    return (paragraph, feature) if paragraph and feature else None


def read_features(features_dir: Path) -> dict[str, WrittenFeature]:
    """Paragraph number → its feature, for every feature file in the folder."""
    found: dict[str, WrittenFeature] = {}
    for path in sorted(features_dir.rglob("*.feature")) if features_dir.is_dir() else []:
        read = read_feature(path)
        if read is not None:
            found.setdefault(*read)
    return found


def read_rules(rules_file: Path) -> dict[str, str]:
    """Paragraph number → its Kazakh text; InvalidInput if the file is missing or its paragraphs are not found."""
    try:
        text = rules_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{rules_file}: cannot read the text of the Rules ({exc.__class__.__name__})") from None
    try:
        return split_paragraphs(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{rules_file}: {exc}") from None


def read_results(report: Path | None) -> tuple[dict[tuple[str, str], str], datetime | None]:
    """(feature file, scenario) → result, and when the report was written; nothing without a report."""
    if report is None:
        return {}, None
    results = read_report(report)  # ReportError if it is missing or unreadable
    return results, datetime.fromtimestamp(report.stat().st_mtime, ALMATY)


def resolve(names: Iterable[str], paragraph: str,
            diagrams: Iterable[Diagram]) -> tuple[tuple[CarryingElement, ...], tuple[str, ...]]:
    """The elements the names stand for (those citing §paragraph first), and the names no element has."""
    everything = [
        CarryingElement(element.name, diagram.process_id, diagram.name, element.element_id, element.kind)
        for diagram in diagrams for element in diagram.elements.values()
    ]
    citing = {(d.process_id, e.element_id) for d in diagrams for e in d.elements.values()
              if f"§{paragraph}" in e.paragraphs}
    found: list[CarryingElement] = []
    unknown: list[str] = []
    for name in names:
        wanted = " ".join(name.split()).casefold()
        same = [e for e in everything if " ".join(e.name.split()).casefold() == wanted]
        preferred = [e for e in same if (e.process_id, e.element_id) in citing]
        found += preferred or same
        if not same:
            unknown.append(name)
    return tuple(dict.fromkeys(found)), tuple(unknown)


def _obligation(rule: WrittenRule, feature: str, paragraph: str, diagrams: list[Diagram],
                results: Mapping[tuple[str, str], str]) -> Obligation:
    """One rule with its scenarios' results and its elements resolved."""
    elements, unknown = resolve(rule.named, paragraph, diagrams)
    scenarios = tuple(ScenarioResult(name, results.get((feature, name), NOT_RUN)) for name in rule.scenarios)
    return Obligation(rule.title, rule.line, scenarios, tuple(rule.named), elements, unknown)


def build_legal_document(diagrams: list[Diagram], features_dir: Path, report: Path | None = None,
                         rules_file: Path | None = None) -> LegalDocument:
    """The living document from the diagrams, the features, the last run's report and the Rules' text.

    Without ``rules_file`` the paragraphs' Kazakh text is left empty (enough to check the links).
    """
    features = read_features(features_dir)
    texts = read_rules(rules_file) if rules_file is not None else {}
    results, run_at = read_results(report)
    paragraphs = []
    for number in PARAGRAPH_NUMBERS:
        feature = features.get(number)
        obligations = tuple(
            _obligation(rule, feature.file, number, diagrams, results) for rule in feature.rules
        ) if feature else ()
        paragraphs.append(ParagraphObligations(
            f"§{number}", feature.title if feature else "", texts.get(number, ""), feature.file if feature else "",
            obligations,
        ))
    return LegalDocument(tuple(paragraphs), run_at)


def highlighted_drawings(paragraph: ParagraphObligations, diagrams: list[Diagram],
                         standalone: bool = True) -> list[Drawing]:
    """Each diagram holding an element of the paragraph's obligations, drawn with those elements marked."""
    drawings = []
    for diagram in diagrams:
        marks = {e.element_id: CITED for e in paragraph.elements if e.process_id == diagram.process_id}
        if marks:
            drawings.append(Drawing(diagram.process_id, diagram.name,
                                    render_svg(diagram.source, marks, standalone=standalone)))
    return drawings


def legal_document_html(document: LegalDocument, diagrams: list[Diagram], language: str, now: datetime) -> str:
    """The document as one self-contained printable HTML page, its diagrams drawn with their styles inside."""
    drawings = {p.paragraph: highlighted_drawings(p, diagrams) for p in document.paragraphs}
    return render_legal_html(document, drawings, language, now)


def legal_document_pdf(html: str) -> bytes:
    """The printable page laid out as an A4 PDF."""
    return render_legal_pdf(html)


def read_legal_document(actor: Actor, diagrams: list[Diagram], features_dir: Path, rules_file: Path,
                        report: Path) -> tuple[LegalDocument, str]:
    """The document for the legal team, and a note when the report cannot be read (its results then unknown).

    NotPermitted for anyone else. A report that does not exist yet just means no run has been recorded.
    """
    check_legal_reader(actor)
    if not report.is_file():
        return build_legal_document(diagrams, features_dir, None, rules_file), ""
    try:
        return build_legal_document(diagrams, features_dir, report, rules_file), ""
    except ReportError as exc:
        return build_legal_document(diagrams, features_dir, None, rules_file), str(exc)
