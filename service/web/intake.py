"""Office intake: a clerk registers a walk-in application (or a complaint) and prints the result at once."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from service.application.attachments import attach
from service.application.cases import deliver_message
from service.application.forms import coerce_submission, load_form
from service.domain.errors import DuplicateCase, FormInvalid, InvalidInput
from service.domain.time import format_instant

from .context import language, require_role, services, signed_in, staff
from .widgets import build_widgets, error_labels

blueprint = Blueprint("intake", __name__)

#: (process, start message, role allowed, fields filled in by the office, number prefix)
_INTAKES = {
    "application": ("service_delivery", "service_requested", "office_clerk",
                    ("channel", "received_at", "application_number", "consent", "attachments"), "APP"),
    "complaint": ("complaint_review", "complaint_filed", "complaint_registrar",
                  ("registered_at", "complaint_number"), "COMP"),
}


def _login() -> str:
    member = staff()
    return member.login if member else "office"


#: The scans an office clerk may attach, by document kind.
UPLOAD_KINDS = ("application", "vkk_conclusion")


class UploadRefused(Exception):
    """A file that is not a PDF/JPEG/PNG or is too large; names the input it came from."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def _store_uploads(uow: Any, number: str) -> list[dict[str, object]]:
    """Check and store the scans handed in (same transaction as the case)."""
    stored = []
    for kind in UPLOAD_KINDS:
        upload = request.files.get(f"upload.{kind}")
        if upload is None or not upload.filename:
            continue
        try:
            stored.append(attach(uow, business_key=number, kind=kind, filename=upload.filename,
                                 content=upload.read(), actor=_login(), now=services().now(),
                                 max_bytes=services().settings.max_attachment_bytes))
        except InvalidInput as exc:
            raise UploadRefused(f"upload.{kind}", str(exc)) from exc
    return stored


def _office_fields(kind: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Fill in what the office knows itself: the number, the moment, the channel."""
    now = services().now()
    number = f"{_INTAKES[kind][4]}-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"
    if kind == "application":
        values.update(application_number=number, channel="office", received_at=format_instant(now))
    else:
        values.update(complaint_number=number, registered_at=format_instant(now))
    return number, values


@blueprint.route("/intake/<kind>", methods=["GET", "POST"])
@signed_in
def register(kind: str) -> Any:
    """The intake form; on success the case page opens with the receipt or the refusal to print."""
    if kind not in _INTAKES:
        return redirect(url_for("tasks.task_list"))
    process_id, message, role, hidden, _ = _INTAKES[kind]
    require_role(role)
    svc = services()
    form = load_form(svc.settings.forms_dir, process_id, message)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = coerce_submission(form, request.form.to_dict(flat=False))
        values.pop("csrf_token", None)
        number, payload = _office_fields(kind, dict(values))
        try:
            with svc.uow() as uow:
                if kind == "application":
                    payload["attachments"] = _store_uploads(uow, number)
                receipt = deliver_message(uow, svc.runtime, name=message, business_key=number, payload=payload,
                                          now=svc.now(), actor=_login())
        except UploadRefused as exc:
            errors = {exc.field: [str(exc)]}
        except FormInvalid as exc:
            errors = {path: [m.text(language()) for m in msgs] for path, msgs in exc.fields.items()}
        except DuplicateCase:
            errors = {"": ["duplicate"]}
        else:
            return redirect(url_for("cases.case_page", instance_id=receipt.instance_id))
    widgets = build_widgets(form.schema, values, errors, language(), hidden=hidden)
    return render_template("intake.html", form=form, widgets=widgets, errors=errors, kind=kind,
                           uploads=UPLOAD_KINDS if kind == "application" else (),
                           error_labels=error_labels(form, errors, language())), (422 if errors else 200)
