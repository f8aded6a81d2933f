"""For analysts: the in-browser modeler (bpmn-js) and its JSON calls — validate, diff, features, deploy.

The page opens a process's live version; ``static/modeler.js`` sends the edited XML to the
endpoints below, each a thin call of ``service.application.modeler``. Answers are JSON; a problem
the analyst can fix (the diagram does not load, features not passed and no reason) is 422 with
its message, never a 500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from service import bootstrap
from service.application import feature_runs
from service.application.deployments import DeploymentRefused
from service.application.lint_checks import lint_checks
from service.application.modeler import (
    candidate_diff,
    candidate_files,
    check_candidate,
    deploy_candidate,
    live_version,
)
from service.application.validation import FILE_CHECKS
from service.domain.errors import InvalidInput
from service.domain.problems import kind_title
from service.engine.versions import ElementChange

from .context import actor, language, require_role, services, signed_in

blueprint = Blueprint("modeler", __name__)

ANALYST = "analyst"


def _runs_dir() -> Path:
    return services().settings.instance_dir / "feature-runs"


def _xml() -> str:
    """The edited diagram from the JSON body (InvalidInput when it is missing)."""
    body = request.get_json(silent=True)
    xml = body.get("xml") if isinstance(body, dict) else None
    if not isinstance(xml, str):
        raise InvalidInput("send the diagram as JSON: {\"xml\": \"<bpmn:definitions …>\"}")
    return xml


def _live(process_id: str) -> Any:
    """The live version of ``process_id``, for an analyst (403 for anyone else)."""
    require_role(ANALYST)
    svc = services()
    with svc.uow(write=False) as uow:
        return live_version(uow, svc.runtime, actor=actor(), process_id=process_id)


def _refused(message: str, problems: list[str] | None = None) -> tuple[Response, int]:
    return jsonify(error=message, problems=problems or []), 422


@blueprint.get("/modeler/<process_id>")
@signed_in
def modeler_page(process_id: str) -> Any:
    """The live version of a process in bpmn-js's Modeler, with validate, diff, features and deploy."""
    return render_template("modeler.html", live=_live(process_id))


@blueprint.get("/modeler/<process_id>/live.bpmn")
@signed_in
def live_diagram(process_id: str) -> Any:
    """The live version's diagram XML, as the modeler opens it."""
    live = _live(process_id)
    return Response(live.source, mimetype="application/xml", headers={"X-Version": live.content_hash})


@blueprint.post("/modeler/<process_id>/validate")
@signed_in
def validate(process_id: str) -> Any:
    """Every problem the product's own validator finds in the edited diagram."""
    require_role(ANALYST)
    svc = services()
    try:
        xml = _xml()
        with svc.uow(write=False) as uow:
            problems = check_candidate(uow, svc.runtime, actor=actor(), process_id=process_id, xml=xml,
                                       process_settings=bootstrap.process_settings(svc.settings),
                                       form_choices=bootstrap.form_choices(svc.settings), calendar=svc.calendar,
                                       checks=[*FILE_CHECKS, *lint_checks(svc.settings.node_modules_dir)])
    except InvalidInput as exc:
        return _refused(str(exc))
    lang = language()
    return jsonify(ok=not any(p.is_error for p in problems),
                   problems=[{**p.as_dict(), "title": kind_title(p.kind, lang)} for p in problems])


def _change(change: ElementChange) -> dict[str, Any]:
    return {"element_id": change.element_id, "name": change.name, "kind": change.kind, "change": change.change,
            "facts": {fact: list(values) for fact, values in change.facts.items()}}


@blueprint.post("/modeler/<process_id>/diff")
@signed_in
def diff(process_id: str) -> Any:
    """The edited diagram against the live version: elements added, removed, changed."""
    require_role(ANALYST)
    svc = services()
    try:
        xml = _xml()
        with svc.uow(write=False) as uow:
            found = candidate_diff(uow, svc.runtime, actor=actor(), process_id=process_id, xml=xml)
    except InvalidInput as exc:
        return _refused(str(exc))
    return jsonify(added=[_change(c) for c in found.added], removed=[_change(c) for c in found.removed],
                   changed=[_change(c) for c in found.changed])


@blueprint.post("/modeler/<process_id>/features")
@signed_in
def run_features(process_id: str) -> Any:
    """Start the legal features on the edited diagram (with every other current file); the run's id."""
    require_role(ANALYST)
    svc = services()
    try:
        xml = _xml()
        with svc.uow(write=False) as uow:
            files = candidate_files(uow, svc.runtime, actor=actor(), process_id=process_id, xml=xml)
    except InvalidInput as exc:
        return _refused(str(exc))
    settings = svc.settings
    run_id = feature_runs.start_run(_runs_dir(), settings.features_dir.parent, settings.processes_dir,
                                    settings.forms_dir, files, settings.predeploy_features)
    return jsonify(run=run_id), 202


@blueprint.get("/modeler/features/<run_id>")
@signed_in
def feature_run(run_id: str) -> Any:
    """Where a run of the features stands: progress, then the results per feature."""
    require_role(ANALYST)
    status = feature_runs.run_status(_runs_dir(), run_id)
    return jsonify(run=status.run_id, state=status.state, done=status.done, total=status.total,
                   log_tail=status.log_tail,
                   features=[{"name": f.name, "uri": f.uri, "passed": f.passed, "failed": f.failed}
                             for f in status.features])


@blueprint.post("/modeler/<process_id>/deploy")
@signed_in
def deploy(process_id: str) -> Any:
    """Deploy the edited diagram: its features passed, or an override with a reason (logged)."""
    require_role(ANALYST)
    svc = services()
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    run_id, reason = body.get("run"), body.get("override_reason")
    try:
        xml = _xml()
        run = feature_runs.run_status(_runs_dir(), run_id) if isinstance(run_id, str) and run_id else None
        result = deploy_candidate(svc.write_uow, svc.runtime, actor=actor(), process_id=process_id, xml=xml,
                                  run=run, override_reason=reason if isinstance(reason, str) else "",
                                  now=svc.now())
    except DeploymentRefused as exc:
        return _refused(str(exc).splitlines()[0], exc.problems)
    except InvalidInput as exc:
        return _refused(str(exc))
    return jsonify(versions=[{"process": v.process_id, "version": v.content_hash, "new": v.new}
                             for v in result.versions])
