"""The task list (my tasks, my role's tasks) and the task page with its form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from service.application.cases import claim_task, complete_task, open_task, release_task
from service.application.forms import coerce_submission
from service.application.operations import task_incident
from service.application.queries import task_context
from service.application.retry import with_retry
from service.domain.errors import ConcurrencyConflict, FormInvalid, NotPermitted

from .context import actor, language, safe_next, services, signed_in
from .i18n import translate
from .task_list import task_list_view
from .widgets import build_widgets, error_labels

blueprint = Blueprint("tasks", __name__)
PER_PAGE = 25


@blueprint.get("/")
@signed_in
def home() -> Any:
    """Staff start at their task list."""
    return redirect(url_for("tasks.task_list"))


@blueprint.get("/tasks")
@signed_in
def task_list() -> Any:
    """Open tasks of all my roles in my organisations (or one role, or mine), filtered and searched."""
    return task_list_view()


@blueprint.post("/tasks/<task_id>/claim")
@signed_in
def claim(task_id: str) -> Any:
    """Take a task of my role."""
    try:
        member, now = actor(), services().now()
        with_retry(services().uow, lambda uow: claim_task(uow, actor=member, task_id=task_id, now=now))
    except ConcurrencyConflict:
        flash(translate("conflict", language()), "error")
    return redirect(safe_next(request.form.get("next")))


@blueprint.post("/tasks/<task_id>/release")
@signed_in
def release(task_id: str) -> Any:
    """Give a task back to the role."""
    member, now = actor(), services().now()
    with_retry(services().uow, lambda uow: release_task(uow, actor=member, task_id=task_id, now=now))
    return redirect(safe_next(request.form.get("next")))


@blueprint.route("/tasks/<task_id>", methods=["GET", "POST"])
@signed_in
def task_page(task_id: str) -> Any:
    """The task's form (validated on the server, values kept on error), the case summary and history."""
    member = actor()
    svc = services()
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    with svc.uow(write=False) as uow:
        blocked, incident = task_incident(uow, actor=member, task_id=task_id)
    if incident is not None:  # the case is parked: no form, and a submission is refused with the same words
        status = 409 if request.method == "POST" else 200
        return render_template("task_blocked.html", task=blocked, incident=incident), status
    if request.method == "POST":
        # Try the completion first: the page around the form is only needed again if it fails.
        with svc.uow(write=False) as uow:
            task = open_task(uow, member, task_id)
        form = svc.runtime.form(svc.settings.forms_dir, task.process_id, task.element_id)
        values = coerce_submission(form, request.form.to_dict(flat=False))
        values.pop("csrf_token", None)
        values.pop("version", None)
        try:
            now, version = svc.now(), request.form.get("version", type=int)
            with_retry(svc.uow, lambda uow: complete_task(uow, svc.runtime, actor=member, task_id=task_id,
                                                          data=values, now=now, expected_version=version))
        except FormInvalid as exc:
            errors = {path: [m.text(language()) for m in messages] for path, messages in exc.fields.items()}
        except NotPermitted:
            abort(403)
        else:
            flash(translate("saved", language()), "ok")
            return redirect(url_for("cases.case_page", instance_id=task.instance_id))
    with svc.uow(write=False) as uow:
        context = task_context(uow, svc.runtime, actor=member, task_id=task_id)
        documents = uow.documents.for_instance(context.task.instance_id)
    form = svc.runtime.form(svc.settings.forms_dir, context.task.process_id, context.task.element_id)
    widgets = build_widgets(form.schema, values, errors, language())
    status = 422 if errors else 200
    return render_template("task.html", context=context, form=form, widgets=widgets, errors=errors,
                           error_labels=error_labels(form, errors, language()), documents=documents), status
