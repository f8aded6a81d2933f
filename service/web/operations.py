"""The operations page (administrators and analysts): incidents with filters, stuck outbox and inbox messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template, request

from service.application.operations import STATUSES, IncidentFilter, operations_overview
from service.domain.incidents import INCIDENT_KINDS

from .context import actor, services, signed_in

blueprint = Blueprint("operations", __name__)


def _hours(value: float) -> str:
    """A setting's hours as people write them: 24, 1.5."""
    return f"{value:g}"


@blueprint.get("/operations")
@signed_in
def operations_page() -> Any:
    """Incidents (open, resolved or all; by process, element, kind) and messages stuck too long."""
    svc = services()
    settings = svc.settings
    status = request.args.get("status", "open")
    chosen = IncidentFilter(
        status=status if status in STATUSES else "open",
        process_id=request.args.get("process") or None,
        element_id=request.args.get("element") or None,
        kind=request.args.get("kind") if request.args.get("kind") in INCIDENT_KINDS else None,
    )
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
