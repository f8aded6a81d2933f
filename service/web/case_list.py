"""The case list: the cases of my organisations I may see, searched by number, IIN or name."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from service.application.worklist import list_cases, may_list_cases
from service.domain.stages import STAGES, stage_names

from .context import actor, language, services, signed_in, staff
from .ids import record_id
from .names_view import process_name

blueprint = Blueprint("case_list", __name__)
PER_PAGE = 25
STATUSES = ("running", "completed", "cancelled")


@blueprint.get("/cases")
@signed_in
def case_list() -> Any:
    """Cases newest first with their state, stage, child (where I may see it) and opened date."""
    member, svc, lang = actor(), services(), language()
    args = request.args
    diagrams = svc.engine.library.diagrams()
    process = args.get("process") if args.get("process") in {d.process_id for d in diagrams} else None
    stage = args.get("stage") if args.get("stage") in STAGES else None
    status = args.get("status") if args.get("status") in STATUSES else None
    search = (args.get("q") or "").strip()[:200]
    page = max(1, args.get("page", 1, type=record_id) or 1)
    with svc.uow(write=False) as uow:
        found = list_cases(uow, svc.runtime, actor=member, search=search or None, process_id=process, stage=stage,
                           status=status, page=page, per_page=PER_PAGE)
    if not found.available:
        abort(403)
    rows = [{"case": case, "process": process_name(case.process_id),
             "stage": stage_names(case.stage.split("+"), lang) if case.stage else "—"} for case in found.rows]
    filters = {"process": process, "stage": stage, "status": status, "q": search or None}
    return render_template("case_list.html", rows=rows, result=found, diagrams=diagrams, process=process,
                           stage=stage, status=status, statuses=STATUSES, search=search, filters=filters,
                           stages=[(code, info.name(lang)) for code, info in STAGES.items()])


@blueprint.app_context_processor
def case_list_link() -> dict[str, Any]:
    """Whether the page header links to the case list (for people who have one)."""
    member = staff()
    return {"may_list_cases": member is not None and may_list_cases(services().runtime, member)}
