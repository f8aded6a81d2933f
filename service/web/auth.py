"""Signing in and out, and choosing the interface language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for

from service.application.sessions import end_session, open_session
from service.application.staff import SignInFailed, sign_in

from .context import language, safe_next, services, staff
from .i18n import LANGUAGES, translate

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form; failures count towards a temporary lockout."""
    error = None
    if request.method == "POST":
        try:
            with services().uow() as uow:
                member = sign_in(uow, login=request.form.get("login", ""), password=request.form.get("password", ""),
                                 now=services().now())
        except SignInFailed:  # the same answer for an unknown login, a wrong password and a locked account
            error = translate("wrong_login", language())
        else:
            assert member.id is not None
            with services().uow() as uow:
                token = open_session(uow, member.id, services().now())
            lang = session.get("lang")
            session.clear()
            session["staff_id"] = member.id
            session["sid"] = token
            if lang:
                session["lang"] = lang
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("login.html", error=error, login=request.form.get("login", "")), status


@blueprint.post("/logout")
def logout() -> Any:
    """Sign out (a POST, so no page can sign someone out by linking here); the session ends on the server."""
    with services().uow() as uow:
        end_session(uow, session.get("sid"))
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@blueprint.post("/language")
def choose_language() -> Any:
    """Switch the interface language; it sticks for the session and for the signed-in person."""
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        member = staff()
        if member is not None and member.id is not None:
            with services().uow() as uow:
                uow.staff.set_language(member.id, chosen)
                uow.commit()
    return redirect(safe_next(request.form.get("next")))
