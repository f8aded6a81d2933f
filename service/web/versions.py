"""The analysts' versions page: each process's deployed versions, the differences of two (listed and drawn),
and moving running cases to another version (dry run first, then confirm)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from service.application.deployments import deployed_processes, diff_versions, list_versions
from service.application.version_moves import MovePlan, cases_of_version, move_cases, plan_moves
from service.domain.errors import DomainError, InvalidInput, NotPermitted
from service.engine.svg import render_svg

from .context import actor, language, services, signed_in
from .i18n import translate
from .names_view import process_name

blueprint = Blueprint("versions", __name__)


@blueprint.get("/versions")
@signed_in
def version_list() -> Any:
    """Every deployed process, with its current version."""
    svc = services()
    with svc.uow(write=False) as uow:
        processes = deployed_processes(uow, actor=actor())
    return render_template("versions.html", processes=processes, name=process_name, process_id=None)


@blueprint.get("/versions/<process_id>")
@signed_in
def process_versions(process_id: str) -> Any:
    """The versions of one process: when, who, current, running cases; compare two; move running cases."""
    return _page(process_id)


def _page(process_id: str, plans: list[MovePlan] | None = None, status: int = 200, **extra: Any) -> Any:
    svc = services()
    member = actor()
    with svc.uow(write=False) as uow:
        processes = deployed_processes(uow, actor=member)
        versions = list_versions(uow, svc.runtime, actor=member, process_id=process_id)
    return render_template("versions.html", processes=processes, name=process_name, process_id=process_id,
                           versions=versions, plans=plans, **extra), status


@blueprint.get("/versions/<process_id>/diff")
@signed_in
def version_diff(process_id: str) -> Any:
    """Two versions compared: elements added, removed, changed, form fields; both drawn with the changes marked."""
    svc = services()
    old, new = request.args.get("old", ""), request.args.get("new", "current")
    try:
        with svc.uow(write=False) as uow:
            diff = diff_versions(uow, svc.runtime, actor=actor(), process_id=process_id, old=old, new=new)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("versions.process_versions", process_id=process_id))
    drawings = {side: Markup(render_svg(d.source, marks=diff.diagram.marks(side), standalone=False))  # noqa: S704
                for side, d in (("old", diff.old_diagram), ("new", diff.new_diagram))}
    return render_template("version_diff.html", diff=diff, drawings=drawings, name=process_name(process_id))


@blueprint.post("/versions/<process_id>/move")
@signed_in
def move(process_id: str) -> Any:
    """Dry run (``action=plan``) or move (``action=move``) every running case of one version to another."""
    svc = services()
    member = actor()
    source, target = request.form.get("from", ""), request.form.get("to", "")
    try:
        with svc.uow(write=False) as uow:
            version, ids = cases_of_version(uow, source, actor=member)
            if version.process_id != process_id:
                raise InvalidInput(f"version {source[:12]} is not a version of this process")
            plans = plan_moves(uow, svc.runtime, actor=member, instance_ids=ids, to_version=target)
    except NotPermitted:
        raise
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for("versions.process_versions", process_id=process_id))
    if request.form.get("action") != "move":
        return _page(process_id, plans=plans, move_from=version.content_hash, move_to=target)
    movable = [plan.instance_id for plan in plans if plan.possible]
    report = move_cases(svc.uow, svc.runtime, actor=member, instance_ids=movable, to_version=target,
                        reason=request.form.get("reason", ""), now=svc.now())
    flash(translate("version_move_done", language()).format(moved=len(movable) - len(report.errors),
                                                            failed=len(report.errors) + len(plans) - len(movable)),
          "error" if report.errors else "ok")
    for instance_id, error in report.errors.items():
        flash(f"{instance_id}: {error}", "error")
    return redirect(url_for("versions.process_versions", process_id=process_id))
