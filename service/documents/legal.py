"""The legal team's living document as a printable, self-contained HTML page (and PDF from it).

``legal_document.html`` lays out, paragraph by paragraph, the Kazakh text, one row per obligation
with its scenarios and their last results and the diagram elements carrying it out by name, then
the diagrams with those elements highlighted. The headings are in Kazakh or Russian (``legal.*`` in
the documents catalogue); the Rules' text is always Kazakh, the obligations and scenarios are as the
features word them (Russian).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from service.domain.regulation import FAILED, NOT_RUN, PASSED, Drawing, LegalDocument

from .catalogue import wording
from .render import _environment, long_datetime, render_pdf, service_name, template_gettext

#: The languages of the page's headings.
LANGUAGES = ("kk", "ru")

#: The catalogue key of each scenario result's name (``legal.result.<…>``).
_RESULT_KEYS = {PASSED: "legal.result.passed", FAILED: "legal.result.failed", NOT_RUN: "legal.result.not_run"}


def render_legal_html(document: LegalDocument, drawings: Mapping[str, Sequence[Drawing]], language: str,
                      generated_at: datetime) -> str:
    """The whole document as one HTML page; ``drawings`` maps a paragraph ('§5') to its highlighted diagrams."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known languages: {', '.join(LANGUAGES)}")
    words = wording(language)
    gettext = template_gettext(words)
    return _environment.get_template("legal_document.html").render(
        lang=language, service=service_name(language), paragraphs=document.paragraphs,
        results={result: words.text(key) for result, key in _RESULT_KEYS.items()},
        drawings={p.paragraph: list(drawings.get(p.paragraph, ())) for p in document.paragraphs},
        run_at=long_datetime(document.run_at, words) if document.run_at else "",
        generated_at=long_datetime(generated_at, words), gettext=gettext, _=gettext,
    )


def render_legal_pdf(html: str) -> bytes:
    """The document laid out on A4 pages (WeasyPrint; nothing outside the HTML is fetched)."""
    return render_pdf(html)
