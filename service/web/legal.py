"""For the legal team: the Rules paragraph by paragraph — Kazakh text, obligations, scenarios, diagram elements."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, render_template
from markupsafe import Markup

from service.application.legal import (
    highlighted_drawings,
    legal_document_html,
    legal_document_pdf,
    read_legal_document,
)
from service.domain.regulation import LegalDocument
from service.engine.names import with_names

from .context import actor, language, services, signed_in
from .names_view import names_of, process_name

blueprint = Blueprint("legal", __name__)


def _document() -> tuple[LegalDocument, str]:
    """The document for the signed-in member (NotPermitted, a 403, for anyone but the legal team)."""
    svc = services()
    settings = svc.settings
    return read_legal_document(actor(), svc.engine.library.diagrams(), settings.features_dir, settings.rules_file,
                               settings.feature_report)


@blueprint.get("/legal")
@signed_in
def legal_page() -> Any:
    """Each paragraph with its Kazakh text, one line per obligation, and the diagrams with its elements marked."""
    document, problem = _document()
    diagrams = [replace(d, name=process_name(d.process_id), source=with_names(d.source, names_of(d.process_id)))
                for d in services().engine.library.diagrams()]  # drawn with the interface language's names
    drawings = {
        p.paragraph: [(d.name, Markup(d.svg)) for d in highlighted_drawings(p, diagrams, standalone=False)]  # noqa: S704
        for p in document.paragraphs
    }
    return render_template("legal.html", document=document, drawings=drawings, report_problem=problem)


@blueprint.get("/legal/document.<any(html, pdf):kind>")
@signed_in
def legal_download(kind: str) -> Any:
    """The same document as a self-contained printable HTML page or an A4 PDF, to keep or print."""
    document, _ = _document()
    lang = "kk" if language() == "kk" else "ru"
    html = legal_document_html(document, services().engine.library.diagrams(), lang, services().now())
    body, mimetype = (legal_document_pdf(html), "application/pdf") if kind == "pdf" else (html, "text/html")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="rules-{lang}.{kind}"'
    return response
