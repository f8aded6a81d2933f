"""The case page (diagram with progress, timeline, deadlines, documents) and document downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from service.application.attachments import RESTRICTED_KINDS, open_attachment
from service.application.case_diagram import case_diagram, case_names
from service.application.cases import record_court_appeal
from service.application.documents import document_pdf, readable_document
from service.application.operations import incident_summary, may_operate, open_incident_of
from service.application.queries import case_page as case_page_data
from service.domain.errors import InvalidInput
from service.domain.incidents import Incident
from service.domain.staff import Actor
from service.engine.names import diagram_names, with_names
from service.engine.svg import STYLE as DIAGRAM_STYLE
from service.engine.svg import render_svg

from .context import actor, language, services, signed_in
from .i18n import translate
from .names_view import name_helpers

blueprint = Blueprint("cases", __name__)
blueprint.app_context_processor(name_helpers)  # process and element names in the interface language

# Issued documents are complete HTML pages with their own print styles.
_DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@blueprint.get("/cases/<int:instance_id>")
@signed_in
def case_page(instance_id: int) -> Any:
    """Where the case stands: the diagram marked, open tasks with deadlines, documents, history."""
    svc = services()
    now = svc.now()
    member = actor()
    with svc.uow(write=False) as uow:
        page = case_page_data(uow, svc.runtime, actor=member, instance_id=instance_id, now=now)
        incident = open_incident_of(uow, instance_id)
        names = case_names(uow, svc.runtime, actor=member, instance_id=instance_id,
                           own=diagram_names(page.progress.source), language=language(),
                           processes_dir=svc.settings.processes_dir)
    view, progress = page.view, page.progress
    drawn = with_names(progress.source, names)  # the server's drawing (no script) in the interface language too
    svg = Markup(render_svg(drawn, progress.marks, standalone=False))  # noqa: S704 - escaped parts
    monitoring = [o for o in reversed(view.outbox) if o.channel == "monitoring"]
    return render_template("case.html", view=view, svg=svg, data=progress.data, documents=page.documents,
                           monitoring=monitoring, now=now, marks=progress.marks,
                           element_names=names, operator=may_operate(member),
                           attachments=page.attachments, restricted=RESTRICTED_KINDS, organisation=page.organisation,
                           may_record_appeal=page.may_record_appeal, incident=incident,
                           incident_error=_incident_error(incident, member))


def _incident_error(incident: Incident | None, member: Actor) -> str:
    """The full error for administrators and analysts; its last line, shortened, for everyone else."""
    if incident is None:
        return ""
    return incident.error if may_operate(member) else incident_summary(incident)


@blueprint.get("/cases/<int:instance_id>/diagram.json")
@signed_in
def case_diagram_json(instance_id: int) -> Any:
    """The case's diagram for the browser's viewer: XML with names in the interface language, and marks."""
    svc = services()
    with svc.uow(write=False) as uow:
        drawn = case_diagram(uow, svc.runtime, actor=actor(), instance_id=instance_id, now=svc.now(),
                             language=language(), processes_dir=svc.settings.processes_dir)
    return jsonify(xml=drawn.xml, marks=drawn.marks, names=drawn.names)


@blueprint.post("/cases/<int:instance_id>/court-appeal")
@signed_in
def court_appeal(instance_id: int) -> Any:
    """§10: record that the applicant or complainant went to court over this case."""
    svc = services()
    try:
        with svc.uow() as uow:
            record_court_appeal(uow, svc.runtime, actor=actor(), instance_id=instance_id,
                                court=request.form.get("court", ""), filed_on=request.form.get("filed_on", ""),
                                note=request.form.get("note", ""), now=svc.now())
    except InvalidInput as exc:
        flash(str(exc), "error")
    else:
        flash(translate("saved", language()), "ok")
    return redirect(url_for("cases.case_page", instance_id=instance_id))


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
    with services().uow() as uow:
        info, content = open_attachment(uow, services().runtime, actor=actor(), attachment_id=attachment_id,
                                        now=services().now())
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in info.filename) or "attachment"
    return Response(content, mimetype=info.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe_name}"',
                             "Cache-Control": "no-store"})


@blueprint.get("/documents/<int:document_id>")
@signed_in
def document_html(document_id: int) -> Any:
    """An issued document as its printable HTML."""
    with services().uow(write=False) as uow:
        stored = readable_document(uow, services().runtime, actor=actor(), document_id=document_id)
    response = Response(stored.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _DOCUMENT_CSP
    return response


@blueprint.get("/documents/<int:document_id>.pdf")
@signed_in
def document_download(document_id: int) -> Any:
    """An issued document as its signed PDF (made on the first download or delivery, then kept)."""
    svc = services()
    signed = document_pdf(svc.uow, svc.runtime, svc.signer, actor=actor(), document_id=document_id)
    return Response(signed.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{signed.file_name}"',
                             "ETag": f'"{signed.sha256}"'})
