"""The task page: the case beside the task, a form that keeps what was typed, read-only when taken by another.

- The facts the decision depends on are declared beside the task's form (``*.context.json``,
  see :mod:`service.application.task_facts`) and shown next to the form.
- A task a colleague has taken opens read-only, with the colleague's name and no submit button.
- Rows of a list field are added and removed by ``static/forms.js``; without script, the same
  buttons submit the form and it comes back with what was typed kept and a row added or removed.
- A refusal of the diagram on submit (``fail_if``, e.g. a second extension over ten working days)
  is shown as the error of the field the task declares, with what was typed kept: the task's declared
  meaning, then the refusal's own text in the reader's language (the names file of the case's version).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from service.application.cases import complete_task
from service.application.deployments import case_forms_dir
from service.application.forms import coerce_submission
from service.application.incidents import refused_on_purpose
from service.application.operations import task_incident
from service.application.queries import task_context
from service.application.refusals import refusal_text
from service.application.retry import with_retry
from service.application.task_facts import (
    Fact,
    TaskContextDeclaration,
    assignee_name,
    load_declaration,
    task_facts,
)
from service.domain.errors import FormInvalid, NotPermitted, ScriptError

from .context import actor, language, services
from .facts_view import fact_view
from .i18n import pick, translate
from .widgets import build_widgets, error_labels

#: The form fields that only steer the page (row buttons, row counts), never the case's data.
_ROWS_FIELD = re.compile(r"^_rows\.(.+)$")


def row_edits(raw: dict[str, list[str]]) -> tuple[dict[str, list[str]], dict[str, int], bool]:
    """Apply an "add row" / "remove row" button pressed without script to the submitted fields.

    Returns the fields without the page's own, how many rows each list should show, and whether a
    row button (not the submit button) was pressed.
    """
    shown: dict[str, int] = {}
    for key in list(raw):
        match = _ROWS_FIELD.match(key)
        if match:
            values = raw.pop(key)
            shown[match.group(1)] = int(values[0]) if values and values[0].isdigit() else 0
    added = raw.pop("_add_row", [])
    removed = raw.pop("_remove_row", [])
    for name in added[:1]:
        shown[name] = min(shown.get(name, 0) + 1, 200)
    for row in removed[:1]:
        prefix = row + "."
        for key in [k for k in raw if k.startswith(prefix)]:
            del raw[key]
        name = row.split("[", 1)[0]
        shown[name] = max(shown.get(name, 1) - 1, 0)
    return raw, shown, bool(added or removed)


def _refusal_errors(detail: str, declared: TaskContextDeclaration) -> dict[str, list[str]]:
    """The diagram's refusal as the declared field's error, led by its meaning in the interface language."""
    meaning = pick(dict(declared.refusal_labels), language(), "")
    return {declared.refusal_field: [f"{meaning} ({detail})" if meaning else detail]}


def task_page_view(task_id: str) -> Any:
    """GET: the task's form beside its case facts; POST: complete it, or redraw it with what was typed."""
    member = actor()
    svc = services()
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    shown: dict[str, int] = {}
    status = 200
    posted = request.method == "POST"
    with svc.uow(write=False) as uow:  # a submission's task and forms are read in the same transaction
        task, incident = task_incident(uow, actor=member, task_id=task_id)
        forms_dir = case_forms_dir(uow, svc.runtime, task.instance_id) if posted and incident is None else None
    if incident is not None:  # the case is parked: no form, and a submission is refused with the same words
        return render_template("task_blocked.html", task=task, incident=incident), (409 if posted else 200)
    if posted:
        forms_dir = forms_dir or svc.settings.forms_dir
        form = svc.runtime.form(forms_dir, task.process_id, task.element_id)
        raw, shown, row_button = row_edits(request.form.to_dict(flat=False))
        values = coerce_submission(form, raw)
        values.pop("csrf_token", None)
        values.pop("version", None)
        taken_by_other = task.assignee is not None and task.assignee != member.login
        if taken_by_other:
            status = 403
        elif not row_button:
            declared = load_declaration(forms_dir, task.process_id, task.element_id)
            try:
                now, version = svc.now(), request.form.get("version", type=int)
                with_retry(svc.uow, lambda uow: complete_task(uow, svc.runtime, actor=member, task_id=task_id,
                                                              data=values, now=now, expected_version=version))
            except FormInvalid as exc:
                errors = {path: [m.text(language()) for m in messages] for path, messages in exc.fields.items()}
            except ScriptError as exc:
                if not refused_on_purpose(exc):
                    raise
                with svc.uow(write=False) as uow:
                    detail = refusal_text(uow, svc.runtime, instance_id=task.instance_id, exc=exc,
                                          language=language(), processes_dir=svc.settings.processes_dir)
                errors = _refusal_errors(detail or exc.message, declared)
            except NotPermitted:
                abort(403)
            else:
                flash(translate("saved", language()), "ok")
                return redirect(url_for("cases.case_page", instance_id=task.instance_id))
            status = 422
    with svc.uow(write=False) as uow:
        context = task_context(uow, svc.runtime, actor=member, task_id=task_id)
        documents = uow.documents.for_instance(context.task.instance_id)
        forms_dir = case_forms_dir(uow, svc.runtime, context.task.instance_id) or svc.settings.forms_dir
        facts = task_facts(uow, svc.runtime, actor=member, task=context.task, data=context.data,
                           forms_dir=forms_dir)
        taken_by = assignee_name(uow, context.task) if context.task.assignee not in (None, member.login) else None
    form = svc.runtime.form(forms_dir, context.task.process_id, context.task.element_id)
    widgets = build_widgets(form.schema, values, errors, language(), shown_rows=shown)
    return render_template(
        "task.html", context=context, form=form, widgets=widgets, errors=errors, taken_by=taken_by,
        facts=[_shown(fact) for fact in facts], error_labels=error_labels(form, errors, language()),
        documents=documents,
    ), status


def _shown(fact: Fact) -> Mapping[str, Any]:
    return fact_view(fact, language())
