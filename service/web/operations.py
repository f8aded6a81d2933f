"""The operations page (administrators and analysts): incidents with filters, stuck outbox and inbox messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from service.application.operations import STATUSES, IncidentFilter, listed_incidents, operations_overview
from service.application.repair import repair_each, retry_case
from service.domain.incidents import INCIDENT_KINDS

from .context import actor, language, services, signed_in
from .i18n import translate

blueprint = Blueprint("operations", __name__)


def _hours(value: float) -> str:
    """A setting's hours as people write them: 24, 1.5."""
    return f"{value:g}"


def _filter(values: Any) -> IncidentFilter:
    """The incident filter from a query string or a form."""
    status = values.get("status", "open")
    return IncidentFilter(
        status=status if status in STATUSES else "open",
        process_id=values.get("process") or None,
        element_id=values.get("element") or None,
        kind=values.get("kind") if values.get("kind") in INCIDENT_KINDS else None,
    )


@blueprint.get("/operations")
@signed_in
def operations_page() -> Any:
    """Incidents (open, resolved or all; by process, element, kind) and messages stuck too long."""
    svc = services()
    settings = svc.settings
    chosen = _filter(request.args)
    now = svc.now()
    with svc.uow(write=False) as uow:
        overview = operations_overview(uow, actor=actor(), now=now,
                                       outbox_stale=timedelta(hours=settings.outbox_stale_hours),
                                       inbox_stale=timedelta(hours=settings.inbox_stale_hours), incidents=chosen)
    diagrams = svc.engine.library.diagrams()
    elements = sorted(
        {(e.element_id, e.name or e.element_id) for d in diagrams if chosen.process_id in (None, d.process_id)
         for e in d.elements.values()},
        key=lambda pair: (pair[1], pair[0]),
    )
    return render_template(
        "operations.html", overview=overview, chosen=chosen, statuses=STATUSES, kinds=INCIDENT_KINDS,
        diagrams=diagrams, elements=elements, now=now, outbox_hours=_hours(settings.outbox_stale_hours),
        inbox_hours=_hours(settings.inbox_stale_hours),
        hours_since=lambda instant: max(0, int((now - instant).total_seconds() // 3600)),
    )


@blueprint.post("/operations/retry")
@signed_in
def retry_listed() -> Any:
    """Retry now every case whose open incident the page lists for this filter; one failing does not stop the rest."""
    svc = services()
    chosen = _filter({**request.form, "status": "open"})
    with svc.uow(write=False) as uow:
        cases = sorted({i.instance_id for i in listed_incidents(uow, actor=actor(), incidents=chosen)})
    report = repair_each(cases, lambda case: retry_case(svc.uow, svc.runtime, actor=actor(), instance_id=case,
                                                       now=svc.now(), note="retried from the operations page"))
    counts = {outcome: sum(1 for o in report.outcomes if o.outcome == outcome) for outcome in ("moved", "waiting")}
    failed = len(report.errors) + sum(1 for o in report.outcomes if o.outcome == "failed")
    flash(translate("retry_listed_done", language()).format(
        total=len(cases), moved=counts["moved"], waiting=counts["waiting"], failed=failed),
        "error" if failed else "ok")
    query: dict[str, Any] = {key: value for key, value in (
        ("process", chosen.process_id), ("element", chosen.element_id), ("kind", chosen.kind)) if value}
    return redirect(url_for("operations.operations_page", **query))
