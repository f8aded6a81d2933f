"""The integration API (JSON, ``/api/v1``) for the portal, the SMS gateway and state information systems.

Clients authenticate with ``Authorization: Bearer <token>`` and act within their scopes
(:data:`service.domain.staff.API_SCOPES`). Routes parse the request, call one use case and answer
JSON; errors are JSON too (see :mod:`service.web.errors`). The operations that start a case are
the ones the processes declare (``[[api_start]]`` in ``processes/<process>.process.toml``), looked up
in the current declarations on each request. Numbering, idempotency and whether an offer still waits
for a reply are decided in :mod:`service.application.submissions`.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from service.application.documents import PDF, DocumentUnavailable, document_pdf, document_url
from service.application.forms import Form, format_path, validate_submission
from service.application.queries import case_view, find_case
from service.application.sms import DELIVERY_REPORT, ImplausibleDeliveryTime, NoSuchSms, report_sms_delivery
from service.application.staff import Unauthorised, authenticate_client
from service.application.submissions import (
    OFFER_REPLY,
    KeyReused,
    NoOffer,
    NotDeployed,
    Numbering,
    NumberTaken,
    OfferClosed,
    Started,
    given_number,
    numbered,
    reply_to_offer,
    start_submitted,
)
from service.domain.declarations import ApiStart
from service.domain.errors import FormInvalid, NotFound
from service.domain.staff import API_SCOPES, Actor, ApiClientInfo
from service.domain.stages import recorded_stage_name
from service.domain.time import format_instant, parse_instant
from service.persistence.uow import UnitOfWork

from .context import services
from .errors import ApiError, api_language, api_phrase, json_response
from .openapi import (
    API_PREFIX,
    KEY_PATTERN,
    build_document,
    request_form,
    sms_delivery_form,
    sms_reply_form,
    start_request,
)

blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
log = logging.getLogger("homeschool.api")

_KEY = re.compile(KEY_PATTERN)
_BEARER = re.compile(r"bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)
# Text the database and the documents cannot hold: NUL and other control characters, lone surrogates.
_BAD_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


# --- request parsing ------------------------------------------------------------------------------


def _fail(status: int, message: str | None = None, **kw: Any) -> NoReturn:
    raise ApiError(status, api_phrase(message) if message else None, **kw)


def _client(scope: str) -> ApiClientInfo:
    """The client calling, if its bearer token is known (else 401) and has ``scope`` (else 403)."""
    match = _BEARER.fullmatch(request.headers.get("Authorization", ""))
    token = match.group(1) if match else ""
    with services().uow(write=False) as uow:
        try:
            return authenticate_client(uow, token, scope)
        except Unauthorised:
            if token and _has_any_scope(uow, token):
                _fail(403)
            raise


def _has_any_scope(uow: UnitOfWork, token: str) -> bool:
    """Whether the token is known at all (every client has at least one scope)."""
    for scope in API_SCOPES:
        try:
            authenticate_client(uow, token, scope)
        except Unauthorised:
            continue
        return True
    return False


def _idempotency_key(required: bool) -> str | None:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        if required:
            _fail(400, "key_missing")
        return None
    if not _KEY.fullmatch(key):
        _fail(400, "key_invalid")
    return key


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def _body() -> dict[str, Any]:
    """The JSON object sent (400 if it is not JSON or not an object; 413 past the size limit)."""
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        _fail(400, "not_json")
    if not isinstance(value, dict):
        _fail(400, "not_json")
    bad = sorted({format_path(path) for path in _bad_text(value)})
    if bad:
        _fail(422, fields={path: [api_phrase("bad_characters")[api_language()]] for path in bad})
    return value


def _bad_text(value: Any) -> Iterator[list[str | int]]:
    """Paths of strings (and keys) holding characters that cannot be stored (no recursion: bodies nest deep)."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _BAD_CHARACTERS.search(item):
                yield path
        elif isinstance(item, dict):
            for key, member in item.items():
                if _BAD_CHARACTERS.search(key):
                    yield path or [""]
                else:
                    stack.append((member, [*path, key]))
        elif isinstance(item, list):
            stack.extend((member, [*path, index]) for index, member in enumerate(item))


def _start_forms(svc: Any, process_id: str) -> Path:
    """The forms a new case of a process is checked against: its current deployed version's."""
    return svc.runtime.forms_dir_for(process_id) or svc.settings.forms_dir  # type: ignore[no-any-return]


def _validate(form: Form, body: Mapping[str, Any]) -> None:
    """422 with every problem by field path, worded as the office form words them."""
    problems = validate_submission(form, body)
    if problems:
        raise FormInvalid(f"{form.process_id}/{form.task_id}", {path: list(m) for path, m in problems.items()})


def _strip(body: dict[str, Any], name: str) -> None:
    if isinstance(body.get(name), str):
        body[name] = body[name].strip()




# --- answers ----------------------------------------------------------------------------------------


def _stages(history: list[Any]) -> list[dict[str, Any]]:
    """§8: the case's stages, oldest first: code and name in the language asked for (Accept-Language)."""
    language = api_language()
    return [
        {"stage": str(event.details.get("stage", "")), "stage_name": recorded_stage_name(event.details, language),
         "at": format_instant(event.at)}
        for event in history if event.action == "stage_changed"
    ]


def _created(started: Started) -> Response:
    """The case a request started (201) or a retry found (200)."""
    with services().uow(write=False) as uow:
        view = case_view(uow, services().runtime, actor=Actor.system("api"), instance_id=started.instance_id)
    stages = _stages(view.history)
    return json_response({
        "case_number": view.business_key, "instance_id": view.instance_id, "status": view.status,
        "stage": stages[-1]["stage"] if stages else None,
    }, 201 if started.created else 200)


def _start(client: ApiClientInfo, process_id: str, message: str, numbering: Numbering,
           payload: Mapping[str, Any]) -> Response:
    """Start a case (the application layer numbers it and makes a retry find the same case)."""
    svc = services()
    try:
        started = start_submitted(svc.write_uow, svc.runtime, actor=client.actor(), process_id=process_id,
                                  message=message, numbering=numbering, payload=payload, now=svc.now())
    except NotDeployed:
        _fail(503, "not_deployed")
    except KeyReused:
        _fail(409, "key_reused")
    except NumberTaken:
        _fail(409, "number_taken")
    return _created(started)


# --- routes ---------------------------------------------------------------------------------------------


def _start_declared(start: ApiStart) -> Response:
    """A declared operation starts a case: the body is its start form less what the service fills in.

    The service numbers the case (from the client's Idempotency-Key if it gave one) or takes the
    number the client gives (``number_from``); a retry with the same key and body finds the same case.
    """
    svc = services()
    client = _client(start.scope)
    key = _idempotency_key(required=start.key_required)
    body = _body()
    if start.number_from:
        _strip(body, start.number_from)
    _validate(request_form(_start_forms(svc, start.process_id), start_request(start)), body)
    now = svc.now()
    payload = dict(body)
    if start.number_from:
        numbering = given_number(start.numbering_space, body[start.number_from], client.id, key, body)
    else:
        numbering = numbered(start.numbering_space, start.prefix, client.id, key, body, now)
    if start.number_field:
        payload[start.number_field] = numbering.number
    payload.update(start.fixed)
    if start.time_field:
        payload[start.time_field] = format_instant(now)
    return _start(client, start.process_id, start.message, numbering, payload)


@blueprint.post("/sms/replies")
def sms_reply() -> Response:
    """§7-1: the citizen's reply by SMS, delivered to the offer as 'proactive_reply'."""
    client = _client("sms:reply")
    key = _idempotency_key(required=False)
    body = _body()
    _strip(body, "offer_number")
    offers = services().runtime.declarations.accepting(OFFER_REPLY)
    _validate(sms_reply_form(offers.process_id if offers else ""), body)
    offer = body["offer_number"]
    svc = services()
    try:
        outcome = reply_to_offer(svc.write_uow, svc.runtime, actor=client.actor(), offer=offer,
                                 consent=body["consent"], phone=body["phone"], text=body.get("text"),
                                 idempotency_key=key, now=svc.now())
    except NoOffer:
        _fail(404, "no_offer")
    except OfferClosed:
        _fail(409, "offer_closed")
    except KeyReused:
        _fail(409, "key_reused")
    return json_response({"offer_number": offer, "outcome": outcome}, 200 if outcome == "duplicate" else 202)


@blueprint.post("/sms/deliveries")
def sms_delivery() -> Response:
    """§7-1: the gateway's delivery report of an SMS the service sent (the 24 hours count from it)."""
    client = _client("sms:delivery")
    body = _body()
    reporting = services().runtime.declarations.accepting(DELIVERY_REPORT)
    _validate(sms_delivery_form(reporting.process_id if reporting else ""), body)
    svc = services()
    try:
        outcome = report_sms_delivery(svc.write_uow, svc.runtime, actor=client.actor(),
                                      message_id=body["message_id"], status=body["status"],
                                      at=parse_instant(body["at"]), now=svc.now(), reason=body.get("reason"))
    except NoSuchSms:
        _fail(404, "no_sms")
    except ImplausibleDeliveryTime:
        _fail(422, fields={"at": [api_phrase("implausible_delivery")[api_language()]]})
    answer = {"message_id": body["message_id"], "outcome": outcome.result}
    return json_response(answer, 200 if outcome.result == "duplicate" else 202)


def _plausible(case_number: str) -> bool:
    """Whether a number could be a business key at all (1–120 characters the database can hold)."""
    return 0 < len(case_number.strip()) <= 120 and not _BAD_CHARACTERS.search(case_number)


def _case_id(uow: UnitOfWork, reader: Actor, case_number: str) -> int | None:
    """The case with this number the client may see, if any.

    Processes are looked in by their declared ``lookup_priority``: a proactive offer that was accepted
    has a service case under the same number, and the service case is what the applicant follows.
    """
    if not _plausible(case_number):
        return None
    for process_id in services().runtime.declarations.lookup_order():
        instance_id = find_case(uow, services().runtime, actor=reader, process_id=process_id,
                                business_key=case_number)
        if instance_id is not None:
            return instance_id
    return None


@blueprint.get("/cases/<path:case_number>")
def get_case(case_number: str) -> Response:
    """§8: where a case stands — status, stage, the stages with their times, the documents issued."""
    reader = _client("cases:read").actor()
    with services().uow(write=False) as uow:
        instance_id = _case_id(uow, reader, case_number)
        if instance_id is None:
            _fail(404, "no_case")
        view = case_view(uow, services().runtime, actor=reader, instance_id=instance_id)
        documents = uow.documents.for_instance(instance_id)
    stages = _stages(view.history)
    current = stages[-1] if stages else {}
    return json_response({
        "case_number": view.business_key, "process": view.process_id, "status": view.status,
        "stage": current.get("stage"), "stage_name": current.get("stage_name"), "stages": stages,
        "documents": [{"id": d.id, "kind": d.kind, "language": d.language, "title": d.title,
                       "issued_at": format_instant(d.created_at), "content_type": PDF, "sha256": d.pdf_sha256,
                       "url": document_url(d.business_key, d.id)} for d in documents],
    })


#: The largest document id there can be (the column is a 32-bit integer); larger ones are simply not found.
_MAX_ID = 2**31 - 1


@blueprint.get("/cases/<path:case_number>/documents/<int:document_id>")
def get_case_document(case_number: str, document_id: int) -> Response:
    """§5, §7: a document issued in the case, as the signed PDF the personal cabinet received."""
    reader = _client("cases:documents").actor()
    svc = services()
    with svc.uow(write=False) as uow:
        instance_id = _case_id(uow, reader, case_number)
    if instance_id is None:
        _fail(404, "no_case")
    if not 0 < document_id <= _MAX_ID:
        _fail(404, "no_document")
    try:
        signed = document_pdf(svc.uow, svc.runtime, svc.signer, actor=reader, document_id=document_id,
                              instance_id=instance_id)
    except NotFound:
        _fail(404, "no_document")
    except DocumentUnavailable as exc:
        log.error("document %s cannot be signed: %s", document_id, exc)
        _fail(503)
    digest = base64.b64encode(bytes.fromhex(signed.sha256)).decode("ascii")
    return Response(signed.pdf, mimetype=PDF, headers={
        "Content-Disposition": f'attachment; filename="{signed.file_name}"',
        "ETag": f'"{signed.sha256}"',
        "Repr-Digest": f"sha-256=:{digest}:",
        "Cache-Control": "no-store",
    })


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API (no token needed)."""
    svc = services()
    return json_response(build_document(lambda process_id: _start_forms(svc, process_id), svc.runtime.declarations))


#: The methods the catch-all below takes, so that a wrong method on any path is answered here (405 or 404).
_ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@blueprint.route("/<path:path>", methods=_ANY_METHOD)
def declared_start(path: str) -> Response:
    """``POST /api/v1/<path>`` for an operation the current declarations name (``[[api_start]]``), else 404.

    Looked up per request, so a path a newly deployed version adds answers at once and a removed one
    stops; the fixed routes above match first (Werkzeug tries static parts before a ``path`` converter).
    Another method on a declared path, or on a fixed route's path, is 405 with the methods it takes.
    """
    start = services().runtime.declarations.api_start(path)
    if start is not None and request.method == "POST":
        return _start_declared(start)
    allowed = _fixed_methods() | ({"POST"} if start is not None else set())
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    _fail(404)


def _fixed_methods() -> set[str]:
    """The methods a fixed route at this request's path answers (a POST to ``/cases/<number>``: GET)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    methods = set()
    for method in _ANY_METHOD:
        try:
            rule, _ = adapter.match(request.path, method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint != request.endpoint:
            methods.add(method)
    return methods
