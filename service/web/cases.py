"""The case page (diagram with progress, timeline, deadlines, documents) and document downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup

from service.application.attachments import RESTRICTED_KINDS, open_attachment
from service.application.documents import document_pdf
from service.application.queries import case_data, case_view, diagram_marks
from service.engine.svg import STYLE as DIAGRAM_STYLE
from service.engine.svg import render_svg

from .context import services, signed_in, staff

blueprint = Blueprint("cases", __name__)

# Issued documents are complete HTML pages with their own print styles.
_DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@blueprint.get("/cases/<int:instance_id>")
@signed_in
def case_page(instance_id: int) -> Any:
    """Where the case stands: the diagram marked, open tasks with deadlines, documents, history."""
    svc = services()
    now = svc.now()
    with svc.uow(write=False) as uow:
        view = case_view(uow, instance_id)
        if view is None:
            abort(404)
        source, marks = diagram_marks(uow, svc.runtime, instance_id, now)
        data = case_data(uow, svc.runtime, instance_id)
        documents = uow.documents.for_instance(instance_id)
        attachments = uow.attachments.for_key(view.business_key)
    svg = Markup(render_svg(source, marks, standalone=False))  # noqa: S704 - built from escaped parts
    monitoring = [o for o in reversed(view.outbox) if o.channel == "monitoring"]
    diagram = svc.engine.library.current(view.process_id)
    names = {element_id: info.name for element_id, info in diagram.elements.items()}
    return render_template("case.html", view=view, svg=svg, data=data, documents=documents,
                           monitoring=monitoring, now=now, marks=marks, element_names=names,
                           attachments=attachments, restricted=RESTRICTED_KINDS)


@blueprint.get("/diagram.css")
def diagram_css() -> Any:
    """The diagram's styles as a stylesheet of this site (the CSP forbids inline styles)."""
    rules = "\n".join(f"svg.bpmn {line.strip()}" for line in DIAGRAM_STYLE.strip().splitlines() if line.strip())
    response = Response(rules, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blueprint.get("/attachments/<int:attachment_id>")
@signed_in
def attachment_download(attachment_id: int) -> Any:
    """A scanned document; downloads of medical (restricted-access) ones are written to the event log."""
    member = staff()
    assert member is not None
    with services().uow() as uow:
        info, content = open_attachment(uow, attachment_id, actor=member.login, now=services().now())
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in info.filename) or "attachment"
    return Response(content, mimetype=info.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe_name}"',
                             "Cache-Control": "no-store"})


@blueprint.get("/documents/<int:document_id>")
@signed_in
def document_html(document_id: int) -> Any:
    """An issued document as its printable HTML."""
    with services().uow(write=False) as uow:
        stored = uow.documents.get(document_id)
    if stored is None:
        abort(404)
    response = Response(stored.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _DOCUMENT_CSP
    return response


@blueprint.get("/documents/<int:document_id>.pdf")
@signed_in
def document_download(document_id: int) -> Any:
    """An issued document as PDF (laid out on the first download, then kept)."""
    with services().uow() as uow:
        filename, pdf = document_pdf(uow, document_id)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
