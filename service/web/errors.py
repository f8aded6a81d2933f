"""Error pages: every failure gets a clear page in the interface language, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from service.domain.errors import ConcurrencyConflict, NotFound, NotPermitted, TaskNotReady

from .context import language
from .i18n import translate

log = logging.getLogger("homeschool.web")

_TITLES = {403: "forbidden", 404: "not_found", 409: "conflict", 413: "too_large", 500: "server_error"}


def _page(status: int, detail: str = "") -> tuple[str, int]:
    return render_template("error.html", status=status, title=translate(_TITLES.get(status, "server_error"),
                                                                          language()), detail=detail), status


def install(app: Flask) -> None:
    """Map domain errors and HTTP errors to pages."""

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Any:
        return _page(404, str(exc))

    @app.errorhandler(NotPermitted)
    def not_permitted(exc: NotPermitted) -> Any:
        return _page(403, str(exc))

    @app.errorhandler(TaskNotReady)
    def task_gone(exc: TaskNotReady) -> Any:
        return _page(409, translate("task_gone", language()))

    @app.errorhandler(ConcurrencyConflict)
    def conflict(exc: ConcurrencyConflict) -> Any:
        return _page(409, translate("conflict", language()))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code in _TITLES:
            return _page(exc.code or 500)
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        return _page(500)
