"""The inbox page: every task of all my roles in one list, filtered and searched (see ``worklist.inbox``)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from service.application.access import task_scope
from service.application.queries import task_stages
from service.application.worklist import inbox
from service.domain.stages import STAGES

from .context import actor, language, services
from .ids import record_id
from .names_view import element_name

PER_PAGE = 25
#: The longest "due within" a person may ask for, in working days.
MAX_DUE_WITHIN = 60


def task_list_view() -> Any:
    """Open tasks of all my roles in my organisations (or one role, or mine), with due dates and days left."""
    member, svc, lang = actor(), services(), language()
    roles = sorted(frozenset().union(*(lanes for _, lanes in task_scope(svc.runtime, member) or ())))
    args = request.args
    scope = "mine" if args.get("scope") == "mine" else "all"
    role = args.get("role") if args.get("role") in roles else None
    diagrams = svc.engine.library.diagrams()
    process = args.get("process") if args.get("process") in {d.process_id for d in diagrams} else None
    stages = task_stages(svc.runtime, process)
    stage = args.get("stage") if args.get("stage") in stages else None
    overdue = args.get("overdue") == "1"
    due_within = _days(args.get("due_within"))
    search = (args.get("q") or "").strip()[:200]
    page = max(1, args.get("page", 1, type=record_id) or 1)
    with svc.uow(write=False) as uow:
        found = inbox(uow, svc.runtime, actor=member, calendar=svc.calendar, now=svc.now(), role=role,
                      mine=scope == "mine", process_id=process, stage=stage, overdue=overdue, due_within=due_within,
                      search=search or None, page=page, per_page=PER_PAGE)
    titles = {row.task.task_id: element_name(row.task.process_id, row.task.element_id, row.task.title)
              for row in found.rows}
    filters = {"scope": scope, "role": role, "process": process, "stage": stage, "overdue": "1" if overdue else None,
               "due_within": due_within, "q": search or None}
    return render_template(
        "tasks.html", rows=found.rows, result=found.page, roles=roles, role=role, scope=scope, process=process,
        stage=stage, overdue=overdue, due_within=due_within, search=search, diagrams=diagrams, titles=titles,
        stages=[(code, STAGES[code].name(lang)) for code in stages], filters=filters,
    )


def _days(text: str | None) -> int | None:
    """A number of working days from the query string; None when absent or not a number."""
    if text is None or not text.strip().isdigit():
        return None
    return min(int(text.strip()), MAX_DUE_WITHIN)
