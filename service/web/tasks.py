"""The task list (my tasks, my role's tasks) and the task page with its form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from service.application.cases import claim_task, release_task
from service.application.retry import with_retry
from service.domain.errors import ConcurrencyConflict

from .context import actor, language, safe_next, services, signed_in
from .i18n import translate
from .task_form import task_page_view
from .task_list import task_list_view

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
    """The task's form beside its case facts (validated on the server, values kept on error)."""
    return task_page_view(task_id)
