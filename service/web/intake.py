"""Office intake: a clerk registers a walk-in application (or a complaint) and prints the result at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from service.application.forms import coerce_submission, load_form
from service.application.intake import (
    PossibleDuplicate,
    UploadRefused,
    new_form_token,
    register_at_office,
    registered_case,
)
from service.domain.declarations import OfficeIntake
from service.domain.errors import DuplicateCase, FormInvalid

from .context import actor, language, services, signed_in
from .i18n import pick, translate
from .ids import record_id
from .intake_files import check_without_files, chosen_files, forget_files
from .widgets import build_widgets, error_labels

blueprint = Blueprint("intake", __name__)


def intake_title(intake: OfficeIntake, lang: str) -> str:
    """An intake's title in the interface language: its translation key, else the names it declares."""
    return translate(intake.title_key, lang) if intake.title_key else pick(dict(intake.title), lang, intake.kind)


@blueprint.app_context_processor
def office_intakes() -> dict[str, Any]:
    """``office_intakes(roles)``: (kind, title) of each declared intake one of ``roles`` registers, for the menu."""
    def offered(roles: Iterable[str]) -> list[tuple[str, str]]:
        held = set(roles)
        return [(intake.kind, intake_title(intake, language())) for intake in services().runtime.declarations.intakes()
                if intake.role in held]
    return {"office_intakes": offered}


@blueprint.route("/intake/<kind>", methods=["GET", "POST"])
@signed_in
def register(kind: str) -> Any:
    """The intake form; on success the case page opens with the receipt or the refusal to print."""
    intake = services().runtime.declarations.intake(kind)
    if intake is None:
        return redirect(url_for("tasks.task_list"))
    member = actor()
    offices = member.organisations_with(intake.role)
    if not offices:
        abort(403)
    chosen = request.values.get("organisation", type=record_id) or offices[0]
    if chosen not in offices:
        abort(403)
    svc = services()
    form = load_form(svc.runtime.forms_dir_for(intake.process_id) or svc.settings.forms_dir, intake.process_id,
                     intake.message)  # the start form of the current deployed version
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    kept: dict[str, Any] = {}
    duplicates: list[Any] = []
    token = request.form.get("form_token") or new_form_token()
    if request.method == "POST":
        values = coerce_submission(form, request.form.to_dict(flat=False))
        for own in ("csrf_token", "organisation", "form_token", "register_anyway", "pending"):
            values.pop(own, None)
        anyway = request.form.get("register_anyway") == "1"
        uploads, kept, errors = chosen_files(member.login, svc.settings, language(), intake.uploads)
        try:
            if errors:  # every bad file is named, and the typed fields' problems beside them
                check_without_files(svc.runtime, intake, values, svc.now())
            with svc.uow() as uow:
                receipt = register_at_office(uow, svc.runtime, actor=member, kind=kind, organisation_id=chosen,
                                             values=values, uploads=uploads,
                                             max_upload_bytes=svc.settings.max_attachment_bytes, now=svc.now(),
                                             form_token=token, allow_duplicate=anyway)
        except PossibleDuplicate as exc:
            duplicates = exc.cases
            errors = {"": [translate("duplicate_confirm_needed", language())]}
        except UploadRefused as exc:
            errors = {exc.field: [str(exc)]}
        except FormInvalid as exc:
            errors.update({path: [m.text(language()) for m in msgs] for path, msgs in exc.fields.items()})
        except DuplicateCase:
            errors = {"": ["duplicate"]}
        else:
            forget_files(member.login, svc.settings, kept)
            instance_id = receipt.instance_id
            if instance_id is None:  # the same form raced in twice: the other request registered it
                with svc.uow(write=False) as uow:
                    instance_id = registered_case(uow, actor=member, form_token=token)
            if instance_id is None:
                abort(409)
            if receipt.outcome == "duplicate":
                flash(translate("already_registered", language()), "ok")
            return redirect(url_for("cases.case_page", instance_id=instance_id))
    with svc.uow(write=False) as uow:
        organisations = [org for org in (uow.organisations.get(i) for i in offices) if org is not None]
    hidden = intake.office_fields
    widgets = build_widgets(form.schema, values, errors, language(), hidden=hidden)
    return render_template("intake.html", form=form, widgets=widgets, errors=errors, kind=kind, token=token,
                           title=intake_title(intake, language()), duplicates=duplicates, kept=kept,
                           uploads=intake.uploads, organisations=organisations,
                           chosen=chosen, error_labels=error_labels(form, errors, language())), (422 if errors else 200)
