"""The legal team's living document as a printable, self-contained HTML page (and PDF from it).

``legal_document.html`` lays out, paragraph by paragraph, the Kazakh text, one row per obligation
with its scenarios and their last results and the diagram elements carrying it out by name, then
the diagrams with those elements highlighted. The headings are in Kazakh or Russian; the Rules'
text is always Kazakh, the obligations and scenarios are as the features word them (Russian).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from service.domain.regulation import FAILED, NOT_RUN, PASSED, Drawing, LegalDocument

from .catalogue import wording
from .render import _environment, long_datetime, render_pdf, service_name

#: The page's own words, per language.
LABELS: dict[str, dict[str, object]] = {
    "kk": {
        "title": "Қағидалардың орындалуы: тармақтар, міндеттер, сценарийлер және үдеріс сызбалары",
        "run_of": "Сценарийлердің соңғы іске қосылу нәтижелері:",
        "no_run": "Сценарийлердің іске қосылу есебі жоқ: нәтижелер белгісіз.",
        "generated": "Құжат жасалған уақыт:",
        "legend": "— міндетті орындайтын сызба элементтері",
        "obligation": "Міндет (ереже)",
        "scenarios": "Сценарийлер және соңғы нәтиже",
        "elements": "Сызба элементтері",
        "no_scenarios": "сценарий жоқ",
        "unknown": "мұндай атаумен элемент сызбаларда жоқ",
        "not_linked": "сызба элементтері аталмаған",
        "no_feature": "Бұл тармақ бойынша сипаттама (feature) жоқ.",
        "diagram": "Сызба",
        "results": {PASSED: "өтті", FAILED: "өтпеді", NOT_RUN: "іске қосылмаған"},
    },
    "ru": {
        "title": "Исполнение Правил: пункты, обязанности, сценарии и схемы процессов",
        "run_of": "Результаты последнего прогона сценариев:",
        "no_run": "Отчёта о прогоне сценариев нет: результаты неизвестны.",
        "generated": "Документ сформирован:",
        "legend": "— элементы схемы, исполняющие обязанность",
        "obligation": "Обязанность (правило)",
        "scenarios": "Сценарии и последний результат",
        "elements": "Элементы схемы",
        "no_scenarios": "сценариев нет",
        "unknown": "элемента с таким названием на схемах нет",
        "not_linked": "элементы схемы не названы",
        "no_feature": "По этому пункту нет описания (feature).",
        "diagram": "Схема",
        "results": {PASSED: "пройден", FAILED: "не пройден", NOT_RUN: "не запускался"},
    },
}


def render_legal_html(document: LegalDocument, drawings: Mapping[str, Sequence[Drawing]], language: str,
                      generated_at: datetime) -> str:
    """The whole document as one HTML page; ``drawings`` maps a paragraph ('§5') to its highlighted diagrams."""
    if language not in LABELS:
        raise ValueError(f"unknown language {language!r}; known languages: {', '.join(LABELS)}")
    words = wording(language)
    return _environment.get_template("legal_document.html").render(
        lang=language, l=LABELS[language], service=service_name(language), paragraphs=document.paragraphs,
        drawings={p.paragraph: list(drawings.get(p.paragraph, ())) for p in document.paragraphs},
        run_at=long_datetime(document.run_at, words) if document.run_at else "",
        generated_at=long_datetime(generated_at, words),
    )


def render_legal_pdf(html: str) -> bytes:
    """The document laid out on A4 pages (WeasyPrint; nothing outside the HTML is fetched)."""
    return render_pdf(html)
