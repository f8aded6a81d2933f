"""Error pages: every failure gets a clear page in the interface language, never a stack trace.

Under ``/api/`` the same failures are JSON instead — ``{"error": {"code", "message", "fields"?}}``
with a stable ``code`` — and never an HTML page. A step the diagram refuses (``fail_if``) is worded
from the names file of the process that refused, in the reader's language; the API adds
``"refusal": {"key", "values"}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from service.application.incidents import refused_on_purpose
from service.application.refusals import refusal_wording
from service.application.staff import Unauthorised
from service.domain.errors import (
    CaseHasIncident,
    ConcurrencyConflict,
    DiagramError,
    DomainError,
    DuplicateCase,
    FormInvalid,
    InvalidInput,
    NotFound,
    NotPermitted,
    ScriptError,
    TaskNotReady,
    Unavailable,
)
from service.persistence.failures import translate as database_failure

from .context import language, services
from .i18n import translate

log = logging.getLogger("homeschool.web")

_TITLES = {403: "forbidden", 404: "not_found", 409: "conflict", 413: "too_large", 429: "rate_limited",
           500: "server_error", 503: "unavailable_title"}

#: How long a client is asked to wait before trying again when the database is unavailable, in seconds.
RETRY_AFTER_SECONDS = 120

API_LANGUAGES = ("ru", "kk", "en")

#: The stable error codes of the API by HTTP status; their messages are the catalogue's ``api_error_<code>``.
API_CODES: dict[int, str] = {
    400: "bad_request", 401: "unauthorised", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 422: "validation_failed", 429: "rate_limited", 500: "internal",
    503: "unavailable",
}


class ApiError(Exception):
    """An API failure with its status, stable code and message (one text, or one per language)."""

    def __init__(self, status: int, message: str | Mapping[str, str] | None = None, *,
                 fields: Mapping[str, list[str]] | None = None, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.code = api_code(status)
        self.message = message
        self.fields = fields
        self.headers = dict(headers or {})
        super().__init__(f"{status} {self.code}: {message}")


def api_code(status: int) -> str:
    """The stable code of an HTTP status (``bad_request`` or ``internal`` for the ones not listed)."""
    return API_CODES.get(status) or ("bad_request" if status < 500 else "internal")


def api_phrase(key: str) -> dict[str, str]:
    """The catalogue's phrase ``api_<key>`` in every API language (the error body picks the caller's)."""
    return {lang: translate(f"api_{key}", lang) for lang in API_LANGUAGES}


def _api_message(code: str, lang: str) -> str:
    return translate(f"api_error_{code}", lang)


def is_api_request() -> bool:
    """Whether this request is for the integration API (JSON errors, never pages)."""
    return request.path == "/api" or request.path.startswith("/api/")


def api_language() -> str:
    """The language of API messages: from ``Accept-Language`` (kk, ru, en), Russian by default."""
    for value, quality in request.accept_languages:  # best first; kk-KZ counts as kk
        primary = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and (primary in API_LANGUAGES or primary == "*"):
            return primary if primary in API_LANGUAGES else "ru"
    return "ru"


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response in UTF-8 (Kazakh and Russian text stays readable)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(text, status=status, mimetype="application/json", headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    return response


def api_error(status: int, message: str | Mapping[str, str] | None = None, *,
              fields: Mapping[str, list[str]] | None = None, headers: Mapping[str, str] | None = None,
              extra: Mapping[str, Any] | None = None) -> Response:
    """The JSON error response for ``status`` (``extra``: more members of the error object)."""
    code = api_code(status)
    lang = api_language()
    if message is None:
        text = _api_message(code, lang)
    elif isinstance(message, str):
        text = message
    else:
        text = message.get(lang) or message.get("ru") or _api_message(code, lang)
    error: dict[str, Any] = {"code": code, "message": text}
    if status == 422:
        error["fields"] = dict(fields or {})
    error.update(extra or {})
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="homeschool"')
    return json_response({"error": error}, status, headers)


#: What a 403 or 404 page says when nothing more specific is given (an exception's own words are English
#: and technical: they go to the log, not to the page).
_DETAILS = {403: "forbidden_detail", 404: "not_found_detail"}


def _page(status: int, detail: str = "", title_key: str | None = None) -> tuple[str, int]:
    title = translate(title_key or _TITLES.get(status, "server_error"), language())
    if not detail and status in _DETAILS:
        detail = translate(_DETAILS[status], language())
    return render_template("error.html", status=status, title=title, detail=detail), status


def _refused(exc: ScriptError) -> Any:
    """A step the diagram refused on purpose: its text in the reader's language (the API adds key and values)."""
    svc = services()
    api = is_api_request()
    wording = refusal_wording(svc.runtime, exc=exc, language=api_language() if api else language(),
                              processes_dir=svc.settings.processes_dir)
    text, refusal = wording or (exc.message, None)
    if not api:
        return _page(422, text, title_key="step_refused")
    keyed = {"refusal": {"key": refusal.key, "values": _json_values(refusal.values)}} if refusal else None
    return api_error(422, text, fields={"": [text]}, extra=keyed)


def _json_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A refusal's values as JSON can carry them (numbers, text, truth values; anything else as text)."""
    return {name: value if isinstance(value, str | int | float | bool) or value is None else str(value)
            for name, value in values.items()}


def install(app: Flask) -> None:
    """Map domain errors and HTTP errors to pages (to JSON under /api/)."""

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Any:
        if is_api_request():
            return api_error(404)
        log.info("not found: %s", exc)
        return _page(404)

    @app.errorhandler(NotPermitted)
    def not_permitted(exc: NotPermitted) -> Any:
        if is_api_request():
            return api_error(403)
        log.info("not permitted: %s", exc)
        return _page(403)

    @app.errorhandler(TaskNotReady)
    def task_gone(exc: TaskNotReady) -> Any:
        if is_api_request():
            return api_error(409)
        return _page(409, translate("task_gone", language()), title_key="task_gone_title")

    @app.errorhandler(ConcurrencyConflict)
    def conflict(exc: ConcurrencyConflict) -> Any:
        if is_api_request():
            return api_error(409)
        return _page(409, translate("conflict", language()))

    @app.errorhandler(CaseHasIncident)
    def case_incident(exc: CaseHasIncident) -> Any:
        # 409, not 5xx: the service works, this case is parked until an administrator repairs it,
        # so sending the same request again does not help (a portal must not loop on it).
        log.warning("refused on a parked case: %s", exc)
        if is_api_request():
            text = _api_message("case_incident_kept" if exc.kept else "case_incident", api_language())
            return json_response({"error": {"code": "case_incident", "message": text}}, 409)
        return _page(409, translate("task_blocked", language()), title_key="case_incident")

    @app.errorhandler(Unavailable)
    def unavailable(exc: Unavailable) -> Any:
        log.error("database unavailable: %s", exc.reason)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api_request():
            return api_error(503, headers=headers)
        body, status = _page(503, translate("unavailable", language()))
        return body, status, headers

    @app.errorhandler(ScriptError)
    @app.errorhandler(DiagramError)
    def diagram_failure(exc: DomainError) -> Any:
        # Where a case exists, its use case has parked it (CaseHasIncident). What reaches here is a
        # step the diagram refuses on purpose (fail_if: the person's to correct), or a fault where no
        # case exists yet (a start): nothing was saved, and trying again once it is fixed works.
        if isinstance(exc, ScriptError) and refused_on_purpose(exc):
            return _refused(exc)
        log.error("diagram fault outside a case: %s", exc)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api_request():
            return json_response({"error": {"code": "process_fault",
                                            "message": _api_message("process_fault", api_language())}}, 503, headers)
        body, status = _page(503, translate("process_fault", language()), title_key="process_fault_title")
        return body, status, headers

    @app.errorhandler(ApiError)
    def api_failure(exc: ApiError) -> Any:
        if is_api_request():
            return api_error(exc.status, exc.message, fields=exc.fields, headers=exc.headers)
        return unexpected(exc)

    @app.errorhandler(Unauthorised)
    def unauthorised(exc: Unauthorised) -> Any:
        if is_api_request():
            return api_error(401)
        return unexpected(exc)

    @app.errorhandler(DuplicateCase)
    def duplicate(exc: DuplicateCase) -> Any:
        if is_api_request():
            return api_error(409)
        return unexpected(exc)

    @app.errorhandler(InvalidInput)
    def invalid(exc: InvalidInput) -> Any:
        if is_api_request():
            lang = api_language()
            if isinstance(exc, FormInvalid):
                fields = {path: [m.text(lang) for m in messages] for path, messages in exc.fields.items()}
            else:
                fields = {"": [str(exc)]}
            return api_error(422, fields=fields)
        return unexpected(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if is_api_request() and exc.code is not None and exc.code >= 400:
            headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
            return api_error(exc.code, headers=headers)
        if exc.code in _TITLES:
            body, status = _page(exc.code or 500)
            return body, status, {k: v for k, v in exc.get_headers() if k.lower() == "retry-after"}
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        failure = database_failure(exc)  # a driver error outside a unit of work (e.g. on connect)
        if isinstance(failure, Unavailable):
            return unavailable(failure)
        if isinstance(failure, ConcurrencyConflict):
            return conflict(failure)
        log.exception("unhandled error", exc_info=exc)
        if is_api_request():
            return api_error(500)
        return _page(500)
