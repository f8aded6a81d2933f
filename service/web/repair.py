"""Repair buttons of the case page (administrators of the case's organisation, analysts): retry now,
correct a variable, move to another diagram version (with a dry run), cancel with a reason."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from service.application.repair import (
    RepairOutcome,
    VersionChoice,
    cancel_case,
    correct_case_data,
    may_repair,
    migrate_case,
    migration_targets,
    plan_migration,
    retry_case,
)
from service.domain.errors import InvalidInput, NotFound

from .context import actor, language, services, signed_in, staff
from .i18n import translate

blueprint = Blueprint("repair", __name__)


@blueprint.app_context_processor
def repair_helpers() -> dict[str, Any]:
    """``repair_panel(view)`` for the case page: the versions to offer, or None if no panel is shown."""
    return {"repair_panel": _panel}


def _panel(view: Any) -> dict[str, list[VersionChoice]] | None:
    member = staff()
    if member is None or view.status != "running" or not member.roles & {"administrator", "analyst"}:
        return None
    svc = services()
    with svc.uow(write=False) as uow:
        stored = uow.instances.get(view.instance_id)
        if stored is None or not may_repair(member, stored):
            return None
        return {"versions": migration_targets(uow, svc.runtime, actor=member, instance_id=stored.id)}


def _back(instance_id: int) -> Any:
    return redirect(url_for("cases.case_page", instance_id=instance_id))


def _told(outcome: RepairOutcome) -> None:
    text = translate(f"repair_outcome_{outcome.outcome}", language())
    flash(f"{text}: {outcome.detail}" if outcome.detail else text, "error" if outcome.outcome == "failed" else "ok")


@blueprint.post("/cases/<int:instance_id>/repair/retry")
@signed_in
def retry(instance_id: int) -> Any:
    """Run the case now (due timers, kept messages)."""
    svc = services()
    try:
        _told(retry_case(svc.uow, svc.runtime, actor=actor(), instance_id=instance_id, now=svc.now()))
    except InvalidInput as exc:
        flash(str(exc), "error")
    return _back(instance_id)


@blueprint.post("/cases/<int:instance_id>/repair/correct")
@signed_in
def correct(instance_id: int) -> Any:
    """Set one variable where the case stands, with a reason; then retry."""
    svc = services()
    try:
        value = json.loads(request.form.get("value", ""))
    except json.JSONDecodeError:
        flash(translate("repair_not_json", language()), "error")
        return _back(instance_id)
    try:
        _told(correct_case_data(svc.uow, svc.runtime, actor=actor(), instance_id=instance_id,
                                changes={request.form.get("name", "").strip(): value},
                                reason=request.form.get("reason", ""), now=svc.now()))
    except InvalidInput as exc:
        flash(str(exc), "error")
    return _back(instance_id)


@blueprint.post("/cases/<int:instance_id>/repair/migrate")
@signed_in
def migrate(instance_id: int) -> Any:
    """Check (dry run) or move the case to another version of its diagram."""
    svc = services()
    target = request.form.get("to", "")
    try:
        if request.form.get("action") == "plan":
            with svc.uow(write=False) as uow:
                report = plan_migration(uow, svc.runtime, actor=actor(), instance_id=instance_id,
                                        target_version=target)
            for line in report.lines():
                flash(line.strip(), "ok" if report.possible else "error")
        else:
            _told(migrate_case(svc.uow, svc.runtime, actor=actor(), instance_id=instance_id, target_version=target,
                               reason=request.form.get("reason", ""), now=svc.now()))
    except (InvalidInput, NotFound) as exc:
        flash(str(exc), "error")
    return _back(instance_id)


@blueprint.post("/cases/<int:instance_id>/repair/cancel")
@signed_in
def cancel(instance_id: int) -> Any:
    """End the case as cancelled, with a reason."""
    svc = services()
    try:
        with svc.uow() as uow:
            _told(cancel_case(uow, actor=actor(), instance_id=instance_id, reason=request.form.get("reason", ""),
                              now=svc.now()))
    except InvalidInput as exc:
        flash(str(exc), "error")
    return _back(instance_id)
