"""Registering what arrives: an application or a complaint at the office, or from a system over the API.

Here a new case gets its number and its organisations: the school that provides the service
(§3), or for a complaint the body it is addressed to and the organisation appealed against (§9).
What the office registers — start message, role, number, the fields it fills in — is declared per
process (``[[intake]]`` in ``processes/<process>.process.toml``, see :class:`OfficeIntake`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.declarations import OfficeIntake
from service.domain.errors import FormInvalid, InvalidInput, NotPermitted
from service.domain.organisations import COMPLAINT_ADDRESSEE, Organisation, kind_name
from service.domain.search import people_in
from service.domain.staff import Actor
from service.domain.time import format_instant
from service.persistence.case_index import IndexedCase, case_index_of
from service.persistence.uow import UnitOfWork

from ._running import CaseOwners
from .attachments import attach
from .cases import MessageReceipt, deliver_message
from .forms import LANGUAGES, FieldMessage
from .organisations import organisation_by_bin
from .runtime import Runtime

#: What an intake form's token looks like (made by :func:`new_form_token`).
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def new_form_token() -> str:
    """A token for one intake form: sending the same form twice registers one case."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Upload:
    """A scanned file handed in at the office."""

    kind: str
    filename: str
    content: bytes


class UploadRefused(InvalidInput):
    """A file that is not a PDF/JPEG/PNG or is too large; ``field`` names the input it came from."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def _refuse(form: str, field: str, code: str, **params: Any) -> FormInvalid:
    return FormInvalid(form, {field: [FieldMessage(code, params)]})


def _organisation(uow: UnitOfWork, form: str, field: str, value: object, schools_only: bool) -> Organisation:
    found = organisation_by_bin(uow, value, providers_only=schools_only) if isinstance(value, str) else None
    if found is None:
        raise _refuse(form, field, "unknown_provider" if schools_only else "unknown_organisation", value=value)
    return found


def start_owners(uow: UnitOfWork, *, form: str, payload: dict[str, Any],
                 registered_at: Organisation | None, appealable: Collection[str] | None = None) -> CaseOwners:
    """The organisations a case started by ``payload`` belongs to; the payload is completed with their BINs.

    An application or an offer belongs to the school in ``provider_bin`` (the registering school
    at the office). A complaint belongs to the body in ``addressee_bin`` — the appealed school
    itself when it is addressed to the provider — and the school in ``provider_bin`` is appealed;
    the case it names (``appealed.service_case``) is its related case when that case is the school's
    and of a process in ``appealable`` (the declared ones; None: of any process but the complaint's).
    """
    if registered_at is not None and registered_at.provides_service:
        payload.setdefault("provider_bin", registered_at.bin)
    school = _organisation(uow, form, "provider_bin", payload.get("provider_bin"), schools_only=True)
    if "addressee" not in payload:
        return CaseOwners(school.id)
    addressee = str(payload["addressee"])
    if addressee == "provider":
        body = school
        payload["addressee_bin"] = school.bin
    else:
        if registered_at is not None and not registered_at.provides_service:
            payload.setdefault("addressee_bin", registered_at.bin)
        body = _organisation(uow, form, "addressee_bin", payload.get("addressee_bin"), schools_only=False)
    if COMPLAINT_ADDRESSEE.get(body.kind) != addressee:
        kinds = {language: kind_name(body.kind, language) for language in LANGUAGES}
        raise _refuse(form, "addressee", "addressee_mismatch", value=body.bin, kind=kinds)
    if registered_at is not None and registered_at.id not in (body.id, school.id):
        raise _refuse(form, "addressee_bin", "not_registered_here", value=body.bin)
    related = None
    service_case = (payload.get("appealed") or {}).get("service_case")
    if isinstance(service_case, str) and service_case.strip():
        own = form.partition("/")[0]
        for case in uow.instances.by_key(service_case.strip()):
            wanted = case.process_id in appealable if appealable is not None else case.process_id != own
            if wanted and case.organisation_id == school.id:
                related = case.id
    return CaseOwners(body.id, appealed_organisation_id=school.id, related_instance_id=related)


def new_case_number(prefix: str, now: datetime) -> str:
    """A number for a case the office registers, e.g. ``APP-20260320-4F2A1C``."""
    return f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


class PossibleDuplicate(InvalidInput):
    """The child already has an open case at this school: shown before a new one is registered."""

    def __init__(self, cases: Sequence[IndexedCase]) -> None:
        self.cases = list(cases)
        super().__init__(f"the child already has an open case: {', '.join(c.business_key for c in cases)}")


def office_key(actor: Actor, token: str | None) -> str | None:
    """The idempotency key of one filled-in intake form (its token), or None without a usable token."""
    if not token or not _TOKEN.match(token):
        return None
    return f"office/{actor.login}/{token}"


def registered_case(uow: UnitOfWork, *, actor: Actor, form_token: str | None) -> int | None:
    """The case this person's intake form (its token) registered, if it did."""
    key = office_key(actor, form_token)
    return case_index_of(uow).case_for_message_key(key) if key is not None else None


def register_at_office(
    uow: UnitOfWork, runtime: Runtime, *, actor: Actor, kind: str, organisation_id: int, values: Mapping[str, Any],
    uploads: Sequence[Upload] = (), max_upload_bytes: int, now: datetime, form_token: str | None = None,
    allow_duplicate: bool = False,
) -> MessageReceipt:
    """Register what a person handed in at the office of ``organisation_id``: number it, store scans, start it.

    ``kind`` names an office intake a process declares (``[[intake]]`` in its declaration). The same
    form sent again (its ``form_token``: Back and register again, a double click) answers with the
    case it registered the first time. When the intake checks for duplicates, an application for a
    child who already has an open case at this school raises :class:`PossibleDuplicate` unless
    ``allow_duplicate``.
    """
    intake = runtime.declarations.intake(kind)
    if intake is None:
        raise InvalidInput(f"nothing called '{kind}' is registered at the office")
    if not actor.acts_in(organisation_id, intake.role):
        raise NotPermitted(f"registering a {kind} is for the role '{intake.role}' of that organisation")
    key = office_key(actor, form_token)
    index = case_index_of(uow)
    earlier = index.case_for_message_key(key) if key is not None else None
    if earlier is not None:
        return MessageReceipt("duplicate", earlier)
    child_iin = people_in(values).child_iin
    if intake.duplicate_check and child_iin and not allow_duplicate:
        open_cases = index.open_for_child(process_id=intake.process_id, organisation_id=organisation_id,
                                          child_iin=child_iin)
        if open_cases:
            raise PossibleDuplicate(open_cases)
    office = uow.organisations.get(organisation_id)
    assert office is not None  # a membership always points at an organisation
    number = new_case_number(intake.prefix, now)
    payload = office_payload(intake, values, number, now)
    owners = start_owners(uow, form=f"{intake.process_id}/{intake.message}", payload=payload, registered_at=office,
                          appealable=runtime.declarations.appealable())
    if intake.uploads:
        payload["attachments"] = _store_uploads(uow, actor, intake, number, uploads, max_upload_bytes, now)
    return deliver_message(uow, runtime, actor=actor, name=intake.message, business_key=number, payload=payload,
                           owners=owners, now=now, idempotency_key=key)


def office_payload(intake: OfficeIntake, values: Mapping[str, Any], number: str,
                   now: datetime) -> dict[str, Any]:
    """The start message's payload: the values typed in, the number, the moment and what the office sets."""
    payload = dict(values)
    payload[intake.number_field] = number
    payload.update(intake.fixed)
    payload[intake.time_field] = format_instant(now)
    return payload


def _store_uploads(uow: UnitOfWork, actor: Actor, intake: OfficeIntake, number: str, uploads: Sequence[Upload],
                   max_bytes: int, now: datetime) -> list[dict[str, object]]:
    """Check and store the scans handed in (same transaction as the case)."""
    stored = []
    for upload in uploads:
        if upload.kind not in intake.uploads:
            raise UploadRefused(f"upload.{upload.kind}", f"'{upload.kind}' is not a kind of scan the office takes")
        try:
            stored.append(attach(uow, actor=actor, business_key=number, kind=upload.kind, filename=upload.filename,
                                 content=upload.content, now=now, max_bytes=max_bytes))
        except InvalidInput as exc:
            raise UploadRefused(f"upload.{upload.kind}", str(exc)) from exc
    return stored
