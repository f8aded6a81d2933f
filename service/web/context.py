"""Per-request context: the services, the signed-in member of staff, the interface language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlparse

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from service import bootstrap
from service.application.sessions import session_member
from service.domain.organisations import kind_name
from service.domain.staff import Actor, role_name
from service.domain.stages import recorded_stage_name

from .i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    date_text,
    install_babel,
    instant_text,
    local_date,
    local_datetime,
    pick,
    problem_text,
    translate,
)

F = TypeVar("F", bound=Callable[..., Any])


def services() -> bootstrap.Services:
    """The product's services for this app."""
    return current_app.extensions["homeschool"]  # type: ignore[no-any-return]


def staff() -> Actor | None:
    """The signed-in member of staff, if any."""
    return g.get("staff")


def actor() -> Actor:
    """The signed-in member of staff, for a view that is only reached signed in."""
    member = g.get("staff")
    if member is None:
        abort(401)
    return member  # type: ignore[no-any-return]


def language() -> str:
    """The interface language: the session's choice, else the person's, else Russian."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    member = staff()
    return member.language if member and member.language in LANGUAGES else DEFAULT_LANGUAGE


def signed_in(view: F) -> F:
    """Only for signed-in staff; others are sent to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if staff() is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def require_role(*roles: str) -> None:
    """403 unless the signed-in member holds one of ``roles``."""
    member = staff()
    if member is None or not member.roles.intersection(roles):
        abort(403)


def safe_next(target: str | None) -> str:
    """Where to go after a form: only a path of this site (no open redirects), else the task list."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable()  # no control characters: browsers drop tabs, and CR/LF would split the header
            and not urlparse(target).netloc and not urlparse(target).scheme):
        return target
    return url_for("tasks.task_list")


def install_context(app: Flask) -> None:
    """Load the signed-in member per request, choose the interface language, give templates their helpers."""
    install_babel(app, language)

    @app.before_request
    def load_staff() -> None:
        g.staff = None
        member_id = session.get("staff_id")
        if isinstance(member_id, int):
            svc = services()  # the session must still be open on the server
            idle = timedelta(hours=svc.settings.session_idle_hours)
            g.staff = session_member(lambda: svc.uow(write=False), svc.write_uow, session.get("sid"), member_id,
                                     svc.now(), idle)
            if g.staff is None:
                lang = session.get("lang")
                session.clear()
                if lang:
                    session["lang"] = lang

    @app.context_processor
    def helpers() -> dict[str, Any]:
        lang = language()
        return {
            "t": lambda key: translate(key, lang),
            "lang": lang,
            "languages": LANGUAGE_NAMES,
            "me": staff(),
            "role_name": lambda role: role_name(role, lang) if role else "—",
            "kind_name": lambda kind: kind_name(kind, lang) if kind else "—",
            "when": lambda value: local_datetime(value, lang),
            "day": lambda value: local_date(value, lang),
            "pick": lambda labels, fallback="": pick(labels, lang, fallback),
            "instant": lambda value: instant_text(value, lang),
            "date_text": lambda value: date_text(value, lang),
            "problem": lambda item: problem_text(item, lang),
            "action": lambda name: _action(name, lang),
            "stage": lambda details: recorded_stage_name(details, lang),
        }


def _action(name: str, lang: str) -> str:
    """A history entry's action in the interface language; the recorded name where none is written."""
    text = translate(f"action_{name}", lang)
    return name if text == f"action_{name}" else text
