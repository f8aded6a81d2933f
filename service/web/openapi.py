"""The integration API's OpenAPI 3.1 document, and the request forms the API validates with.

The operations that start a case are those the processes declare (``[[api_start]]`` in
``processes/<process>.process.toml``). Request bodies are the JSON Schema forms of ``forms/`` (the
same ones the office intake uses), less the fields the service fills in itself (the number, the
channel, the moment of receipt).
So a body the API accepts is one the office form would accept, with the same messages.
The SMS reply has no form of its own (it is not a start message); its schema is defined here
in the same style.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from service.application.forms import FORMAT_CHECKER, Form, load_form, parse_path
from service.domain.declarations import ApiStart, Declarations
from service.domain.staff import API_SCOPES

API_PREFIX = "/api/v1"
API_VERSION = "1.0.0"
#: What an Idempotency-Key may look like: 1–200 visible ASCII characters.
KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
_KEY_SCHEMA = {"type": "string", "pattern": KEY_PATTERN}


@dataclass(frozen=True)
class RequestForm:
    """A request body: the form it is taken from and the fields the service fills in itself."""

    name: str
    process_id: str
    form_id: str
    server_fields: tuple[str, ...] = ()
    #: Properties of the form the API does not take (e.g. the proactive consent on the portal).
    dropped: tuple[str, ...] = ()




def start_request(start: ApiStart) -> RequestForm:
    """The request body of an API operation a process declares (``[[api_start]]``)."""
    return RequestForm(start.schema, start.process_id, start.message, start.server_fields, start.dropped)

_LABELS = {"kk": "ДКК қорытындысы бойынша ұсынысқа SMS-жауап", "ru": "SMS-ответ на предложение по заключению ВКК",
           "en": "SMS reply to a proactive offer"}

#: §7-1: the citizen's reply to the proactive offer, as the SMS gateway delivers it.
SMS_REPLY_SCHEMA: dict[str, Any] = {
    "title": _LABELS["ru"],
    "x-labels": _LABELS,
    "type": "object",
    "additionalProperties": False,
    "required": ["offer_number", "phone", "consent"],
    "properties": {
        "offer_number": {
            "type": "string", "minLength": 1, "maxLength": 64, "title": "Номер предложения",
            "x-labels": {"kk": "Ұсыныстың нөмірі", "ru": "Номер предложения", "en": "Offer number"},
        },
        "phone": {
            "type": "string", "format": "phone", "title": "С номера телефона",
            "x-labels": {"kk": "Телефон нөмірінен", "ru": "С номера телефона", "en": "From the phone number"},
        },
        "consent": {
            "type": "boolean", "title": "Согласие",
            "description": "true for the answer ИӘ / ДА, false for ЖОҚ / НЕТ (the words the offer SMS asks for); "
                           "a text that is neither is not a reply to pass on",
            "x-labels": {"kk": "Келісім", "ru": "Согласие", "en": "Consent"},
        },
        "text": {
            "type": "string", "maxLength": 2000, "title": "Текст ответа",
            "x-labels": {"kk": "Жауаптың мәтіні", "ru": "Текст ответа", "en": "Text of the reply"},
        },
    },
}

_DELIVERY_LABELS = {"kk": "SMS жеткізілгені туралы шлюздің есебі", "ru": "Отчёт SMS-шлюза о доставке SMS",
                    "en": "The SMS gateway's delivery report"}

#: §7-1: the gateway's report that an SMS the service sent reached the phone (or could not be delivered).
SMS_DELIVERY_SCHEMA: dict[str, Any] = {
    "title": _DELIVERY_LABELS["ru"],
    "x-labels": _DELIVERY_LABELS,
    "type": "object",
    "additionalProperties": False,
    "required": ["message_id", "status", "at"],
    "properties": {
        "message_id": {
            "type": "string", "minLength": 1, "maxLength": 200, "title": "Идентификатор SMS",
            "description": "The Idempotency-Key the SMS was sent with (also its idempotency_key in the JSON)",
            "x-labels": {"kk": "SMS идентификаторы", "ru": "Идентификатор SMS", "en": "Message id"},
        },
        "status": {
            "type": "string", "enum": ["delivered", "failed"], "title": "Статус доставки",
            "description": "delivered: the SMS reached the phone at `at`; failed: the gateway gave up on it",
            "x-labels": {"kk": "Жеткізу мәртебесі", "ru": "Статус доставки", "en": "Delivery status"},
        },
        "at": {
            "type": "string", "format": "date-time", "title": "Момент доставки",
            "description": "When the phone received the SMS (or the gateway gave up), ISO 8601 with a UTC offset",
            "x-labels": {"kk": "Жеткізу сәті", "ru": "Момент доставки", "en": "Delivered at"},
        },
        "reason": {
            "type": "string", "maxLength": 500, "title": "Причина недоставки",
            "x-labels": {"kk": "Жеткізілмеу себебі", "ru": "Причина недоставки", "en": "Why it failed"},
        },
    },
}

_derived: dict[str, tuple[Form, Form]] = {}
_derived_lock = threading.Lock()


def request_form(forms_dir: Path, spec: RequestForm) -> Form:
    """The API's form for ``spec``: the office form less the server's fields (cached with the form)."""
    base = load_form(forms_dir, spec.process_id, spec.form_id)
    with _derived_lock:
        cached = _derived.get(spec.name)
    if cached is not None and cached[0] is base:
        return cached[1]
    schema = _without(base.schema, set(spec.server_fields) | set(spec.dropped))
    derived = Form(spec.process_id, spec.form_id, base.path, schema, {},
                   Draft202012Validator(schema, format_checker=FORMAT_CHECKER))
    with _derived_lock:
        _derived[spec.name] = (base, derived)
    return derived


_fixed_forms: dict[tuple[str, str], Form] = {}


def _fixed_form(process_id: str, form_id: str, definition: Mapping[str, Any]) -> Form:
    """A form defined here, named after the process that takes its message (cached)."""
    with _derived_lock:
        found = _fixed_forms.get((process_id, form_id))
        if found is None:
            schema = copy.deepcopy(dict(definition))
            found = Form(process_id, form_id, Path(form_id), schema, {},
                         Draft202012Validator(schema, format_checker=FORMAT_CHECKER))
            _fixed_forms[(process_id, form_id)] = found
    return found


def sms_reply_form(process_id: str) -> Form:
    """The form the SMS reply is validated with (``process_id``: the process that takes the reply)."""
    return _fixed_form(process_id, "proactive_reply", SMS_REPLY_SCHEMA)


def sms_delivery_form(process_id: str) -> Form:
    """The form the gateway's delivery report is validated with."""
    return _fixed_form(process_id, "sms_delivery_report", SMS_DELIVERY_SCHEMA)


def _without(schema: Mapping[str, Any], names: set[str]) -> dict[str, Any]:
    """A copy of a form's schema without the top-level properties ``names`` and the rules reading them."""
    result = copy.deepcopy(dict(schema))
    result.pop("$schema", None)
    result["properties"] = {k: v for k, v in result.get("properties", {}).items() if k not in names}
    result["required"] = [name for name in result.get("required", []) if name not in names]
    rules = [rule for rule in result.get("x-rules", []) if not _reads(rule, names)]
    if rules:
        result["x-rules"] = rules
    else:
        result.pop("x-rules", None)
    return result


def _reads(rule: Mapping[str, Any], names: set[str]) -> bool:
    """Whether a cross-field rule reads one of the top-level properties ``names``."""
    fields: list[Any] = [rule.get("field"), rule.get("other")]
    fields += list(rule.get("fields") or []) + list(rule.get("when") or {})
    for name in fields:
        parts = parse_path(name) if isinstance(name, str) else None
        if parts and parts[0] in names:
            return True
    return False


# --- the document ---------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": dict(schema)}}


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": _json(_ref(schema))}


_ERROR_CODES = ("bad_request", "unauthorised", "forbidden", "not_found", "method_not_allowed", "conflict",
                "case_incident", "payload_too_large", "validation_failed", "rate_limited", "internal", "unavailable",
                "process_fault")

_ERROR_RESPONSES = {
    "400": ("bad_request: the body is not JSON, not an object, or a required header is missing", "BadRequest"),
    "401": ("unauthorised: no bearer token, or one this service does not know", "Unauthorised"),
    "403": ("forbidden: the client's token does not have the scope this operation needs", "Forbidden"),
    "404": ("not_found: no such case (or offer)", "NotFound"),
    "409": ("conflict: the number is taken, the key was used with another body, or the case moved on; "
            "case_incident: the case failed in its diagram and is parked until administrators repair it "
            "(a message is kept and delivered by the retry; sending it again does not help)", "Conflict"),
    "413": ("payload_too_large: the body is larger than the service accepts", "PayloadTooLarge"),
    "422": ("validation_failed: the body breaks the form's rules; `fields` maps each field path to its messages",
            "ValidationFailed"),
    "429": ("rate_limited: too many calls with this token; wait for `Retry-After` seconds", "RateLimited"),
    "500": ("internal: an unexpected failure (logged); nothing was saved", "Internal"),
    "503": ("unavailable: the service cannot do this now (the database is unreachable, read-only or full, or "
            "the signing key cannot be used); process_fault: a fault in the process diagram stopped a case from "
            "starting (logged for administrators); nothing was saved; try again after `Retry-After` seconds",
            "Unavailable"),
}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: {"$ref": f"#/components/responses/{_ERROR_RESPONSES[status][1]}"} for status in statuses}


def _operation(op_id: str, summary: str, scope: str | None, responses: dict[str, Any], *,
               body: str | None = None, parameters: Iterable[dict[str, Any]] = (),
               description: str = "") -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": op_id, "summary": summary, "tags": ["integration"]}
    if description:
        operation["description"] = description
    params = list(parameters)
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(body))}
    if scope is None:
        operation["security"] = []
    else:
        operation["security"] = [{"bearer": [scope]}]
        operation["x-scope"] = scope
        responses = {**responses, **_errors("401", "403", "429")}
    operation["responses"] = {**responses, **_errors("500")}
    return operation


_IDEMPOTENCY_REQUIRED = {"$ref": "#/components/parameters/IdempotencyKeyRequired"}
_IDEMPOTENCY = {"$ref": "#/components/parameters/IdempotencyKey"}
_LANGUAGE = {"$ref": "#/components/parameters/AcceptLanguage"}

_CASE_CREATED = {
    "type": "object",
    "required": ["case_number", "instance_id", "status", "stage"],
    "properties": {
        "case_number": {"type": "string", "description": "The case's number (its business key)"},
        "instance_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["running", "completed", "cancelled"]},
        "stage": {"type": ["string", "null"], "description": "§8: the stage the case is at"},
    },
}

_STAGE = {
    "type": "object",
    "required": ["stage", "stage_name", "at"],
    "properties": {
        "stage": {"type": "string", "description": "§8: the stage's code from the list of stages (built in, or "
                   "added by the process's declaration; several joined with '+' while tasks of different stages "
                   "are open)"},
        "stage_name": {"type": "string", "description": "the stage's name in the language of Accept-Language"},
        "at": {"type": "string", "format": "date-time"},
    },
}

def _case_status(processes: list[str]) -> dict[str, Any]:
    """The answer of ``GET /cases/{case_number}``; ``processes``: the process ids a case may be of."""
    return {
        "type": "object",
        "required": ["case_number", "process", "status", "stage", "stage_name", "stages", "documents"],
        "properties": {
            "case_number": {"type": "string"},
            "process": {"type": "string", "enum": processes},
            "status": {"type": "string", "enum": ["running", "completed", "cancelled"]},
            "stage": {"type": ["string", "null"], "description": "§8: the current stage's code"},
            "stage_name": {"type": ["string", "null"],
                           "description": "the current stage's name in the language of Accept-Language (kk, ru, en)"},
            "stages": {"type": "array", "items": _ref("Stage"), "description": "§8: every stage, oldest first"},
            "documents": {"type": "array", "items": _ref("IssuedDocument"),
                          "description": "Every document issued in the case, each language apart, oldest first"},
        },
    }


_ISSUED_DOCUMENT = {
    "type": "object",
    "required": ["id", "kind", "language", "title", "issued_at", "content_type", "sha256", "url"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "description": "e.g. refusal (Appendix 2), acceptance_notification "
                                                  "(Appendix 3), admission_order (§7)"},
        "language": {"type": "string", "enum": ["kk", "ru"]},
        "title": {"type": "string"},
        "issued_at": {"type": "string", "format": "date-time"},
        "content_type": {"type": "string", "enum": ["application/pdf"]},
        "sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$",
                   "description": "SHA-256 (hex) of the signed PDF; null until the PDF is first made "
                                  "(delivery to the personal cabinet or the first download)"},
        "url": {"type": "string", "description": "Where to download the signed PDF (scope cases:documents)"},
    },
}

_REPLY_ACCEPTED = {
    "type": "object",
    "required": ["offer_number", "outcome"],
    "properties": {
        "offer_number": {"type": "string"},
        "outcome": {"type": "string", "enum": ["delivered", "kept", "duplicate", "closed"],
                    "description": "delivered to the offer; kept until the offer waits for it; "
                                   "duplicate: a retry of a reply already received (Idempotency-Key); "
                                   "closed: the offer had closed (its 24 hours passed, or it was declined or "
                                   "withdrawn) — the reply is recorded as handled and the citizen is answered by "
                                   "SMS that the offer closed and how to apply (the school or egov.kz)"},
    },
}

_DELIVERY_ACCEPTED = {
    "type": "object",
    "required": ["message_id", "outcome"],
    "properties": {
        "message_id": {"type": "string"},
        "outcome": {"type": "string", "enum": ["delivered", "kept", "recorded", "duplicate"],
                    "description": "delivered: the case was waiting to hear about this SMS (a proactive offer "
                                   "starts its 24 hours from `at`); kept: the case was busy, it gets the report "
                                   "shortly; recorded: nothing waits for it (an earlier SMS of the case, a "
                                   "closed case) — noted on the case; duplicate: this SMS's status was "
                                   "reported before (the first report counts)"},
    },
}

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": list(_ERROR_CODES)},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "validation_failed only: field path (e.g. child.iin) → messages",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def _start_operation(start: ApiStart, created: dict[str, Any]) -> dict[str, Any]:
    """The operation of a declared ``[[api_start]]``."""
    key = _IDEMPOTENCY_REQUIRED if start.key_required else _IDEMPOTENCY
    return _operation(start.operation_id, start.summary, start.scope,
                      {**created, **_errors("400", "409", "413", "422")}, body=start.schema,
                      parameters=[key, _LANGUAGE], description=start.description)


def build_document(forms_dir: Path | Callable[[str], Path], declarations: Declarations) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``/api/v1``: the operations the processes declare, with the request schemas
    read from ``forms_dir`` (or from the folder it gives for a process: its current version's forms)."""
    def forms_of(process_id: str) -> Path:
        return forms_dir(process_id) if callable(forms_dir) else forms_dir

    starts = declarations.api_starts()
    schemas: dict[str, Any] = {start.schema: request_form(forms_of(start.process_id), start_request(start)).schema
                               for start in starts}
    schemas.update({
        "SmsReplyRequest": copy.deepcopy(SMS_REPLY_SCHEMA),
        "CaseCreated": _CASE_CREATED,
        "CaseStatus": _case_status(declarations.lookup_order()),
        "Stage": _STAGE,
        "IssuedDocument": _ISSUED_DOCUMENT,
        "ReplyAccepted": _REPLY_ACCEPTED,
        "SmsDeliveryReport": copy.deepcopy(SMS_DELIVERY_SCHEMA),
        "DeliveryAccepted": _DELIVERY_ACCEPTED,
        "Error": _ERROR,
    })
    created = {"201": _response("The case was started", "CaseCreated"),
               "200": _response("A retry with the same Idempotency-Key and body: the case it started", "CaseCreated")}
    paths: dict[str, Any] = {f"{API_PREFIX}/{start.path}": {"post": _start_operation(start, created)}
                             for start in starts}
    paths.update({
        f"{API_PREFIX}/cases/{{case_number}}": {"get": _operation(
            "getCase", "Where a case stands (§8): status, stage, stages with times, documents issued",
            "cases:read", {"200": _response("The case", "CaseStatus"), **_errors("404")},
            parameters=[{"name": "case_number", "in": "path", "required": True,
                         "schema": {"type": "string", "minLength": 1, "maxLength": 120},
                         "description": "An application, offer or complaint number"}, _LANGUAGE],
        )},
        f"{API_PREFIX}/cases/{{case_number}}/documents/{{document_id}}": {"get": _operation(
            "getCaseDocument", "§5, §7: a document issued in the case, as its signed PDF", "cases:documents",
            {"200": {"description": "The signed PDF (PAdES B-B, the issuing organisation's key); the same bytes "
                                    "every time and the same the personal cabinet received",
                     "headers": {
                         "ETag": {"description": "The SHA-256 of the PDF (hex), quoted",
                                  "schema": {"type": "string"}},
                         "Repr-Digest": {"description": "RFC 9530: sha-256 of the PDF, base64",
                                         "schema": {"type": "string"}},
                     },
                     "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
             **_errors("404", "503")},
            parameters=[{"name": "case_number", "in": "path", "required": True,
                         "schema": {"type": "string", "minLength": 1, "maxLength": 120},
                         "description": "An application, offer or complaint number"},
                        {"name": "document_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                         "description": "The document's id, as the case lists it"}, _LANGUAGE],
            description="404 when there is no such case for this client (a client bound to an organisation "
                        "sees only its cases) or the case has no document with this id. The first download of "
                        "a document not yet delivered lays it out and signs it (about half a second).",
        )},
        f"{API_PREFIX}/sms/replies": {"post": _operation(
            "deliverSmsReply", "§7-1: the citizen's SMS reply to a proactive offer", "sms:reply",
            {"202": _response("The reply was received", "ReplyAccepted"),
             "200": _response("A retry of a reply already received", "ReplyAccepted"),
             **_errors("400", "404", "409", "413", "422", "503")},
            body="SmsReplyRequest", parameters=[_IDEMPOTENCY, _LANGUAGE],
            description="Delivered as the message 'proactive_reply' to the offer with this number; 404 when "
                        "there is no such offer. A reply received before the 24 hours ran out is honoured even "
                        "if it is handled after them; one received later is answered by SMS (outcome 'closed'); "
                        "409 when consent already started the service, or when the Idempotency-Key was used with "
                        "another body.",
        )},
        f"{API_PREFIX}/sms/deliveries": {"post": _operation(
            "reportSmsDelivery", "§7-1: the gateway's delivery report of an SMS the service sent", "sms:delivery",
            {"202": _response("The report was taken", "DeliveryAccepted"),
             "200": _response("This SMS's status was reported before", "DeliveryAccepted"),
             **_errors("400", "404", "413", "422")},
            body="SmsDeliveryReport", parameters=[_LANGUAGE],
            description="Names the SMS by the Idempotency-Key it was sent with. A proactive offer's 24 hours "
                        "for the answer count from `at` (§7-1: from the moment the request is received). "
                        "Idempotent by SMS and status: a resent report answers 200 'duplicate'. 404 when no SMS "
                        "was sent with this id; 422 when `at` lies more than five minutes in the future or before the "
                        "SMS was sent.",
        )},
        f"{API_PREFIX}/openapi.json": {"get": _operation(
            "getOpenApi", "This document", None,
            {"200": {"description": "The OpenAPI document", "content": _json({"type": "object"})}},
        )},
    })
    responses = {
        name: {"description": description, "content": _json(_ref("Error"))}
        for description, name in _ERROR_RESPONSES.values()
    }
    key_description = ("The client's own key for this request (1–200 visible ASCII characters); a retry "
                       "carries the same key and body.")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Home schooling — integration API",
            "version": API_VERSION,
            "description": "For the e-government portal, the SMS gateway and state information systems. "
                           "Authenticate with `Authorization: Bearer <token>`; each operation needs one scope "
                           f"({', '.join(API_SCOPES)}). Errors are JSON "
                           "`{\"error\": {\"code\", \"message\", \"fields\"?}}`; messages follow "
                           "`Accept-Language` (ru by default, kk, en).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "parameters": {
                "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                                   "description": key_description, "schema": _KEY_SCHEMA},
                "IdempotencyKeyRequired": {"name": "Idempotency-Key", "in": "header", "required": True,
                                           "description": key_description, "schema": _KEY_SCHEMA},
                "AcceptLanguage": {"name": "Accept-Language", "in": "header", "required": False,
                                   "description": "Language of messages: ru (default), kk or en "
                                                  "(e.g. `kk`, `kk-KZ,ru;q=0.8`)",
                                   "schema": {"type": "string", "maxLength": 200}},
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": f"A token issued to an API client with scopes from: "
                                          f"{', '.join(API_SCOPES)}"},
            },
        },
    }

