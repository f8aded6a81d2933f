"""Administration: an organisation's administrator manages its staff; a national administrator the registry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from service.application.organisations import RegistryRefused, import_registry
from service.application.people import (
    create_staff,
    deactivate_staff,
    may_administer,
    reactivate_staff,
    reset_password,
    set_roles,
    staff_of,
)
from service.application.process_access import known_roles
from service.domain.errors import InvalidInput, NotFound, NotPermitted

from .context import actor, language, services, signed_in
from .i18n import translate
from .ids import record_id

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


def _roles() -> list[str]:
    return known_roles(services().engine.library.diagrams())


def _organisation_id() -> int:
    """The organisation whose staff are managed: asked for, else the first one this person administers."""
    member = actor()
    chosen = request.values.get("organisation", type=record_id)
    if chosen is None:
        mine = member.organisations_with("administrator")
        if not mine:
            abort(403)
        chosen = mine[0]
    if not may_administer(member, chosen):
        abort(403)
    return chosen


@blueprint.get("/staff")
@signed_in
def staff_list() -> Any:
    """The members of one organisation, their roles and state, and a form to add one."""
    organisation_id = _organisation_id()
    with services().uow(write=False) as uow:
        organisation = uow.organisations.get(organisation_id)
        if organisation is None:
            raise NotFound(f"there is no organisation {organisation_id}")
        members = staff_of(uow, actor=actor(), organisation_id=organisation_id)
        administered = [o for o in (uow.organisations.get(i) for i in actor().organisations_with("administrator")) if o]
    return render_template("admin_staff.html", organisation=organisation, members=members, roles=_roles(),
                           administered=administered)


def _done(organisation_id: int) -> Any:
    flash(translate("saved", language()), "ok")
    return redirect(url_for("admin.staff_list", organisation=organisation_id))


def _refused(organisation_id: int, exc: Exception) -> Any:
    flash(str(exc), "error")
    return redirect(url_for("admin.staff_list", organisation=organisation_id))


@blueprint.post("/staff")
@signed_in
def staff_add() -> Any:
    """Add a member of staff to the organisation."""
    organisation_id = _organisation_id()
    form = request.form
    svc = services()
    try:
        with svc.uow() as uow:
            create_staff(uow, actor=actor(), organisation_id=organisation_id, login=form.get("login", ""),
                         full_name=form.get("full_name", ""), password=form.get("password", ""),
                         roles=form.getlist("roles"), known_roles=_roles(), language=form.get("language", "ru"),
                         position_kk=form.get("position_kk", ""), position_ru=form.get("position_ru", ""),
                         now=svc.now())
    except InvalidInput as exc:
        return _refused(organisation_id, exc)
    return _done(organisation_id)


@blueprint.post("/staff/<int:staff_id>/roles")
@signed_in
def staff_roles(staff_id: int) -> Any:
    """Grant and withdraw roles (the ticked ones are held afterwards) and set the position."""
    organisation_id = _organisation_id()
    svc = services()
    try:
        with svc.uow() as uow:
            set_roles(uow, actor=actor(), organisation_id=organisation_id, staff_id=staff_id,
                      roles=request.form.getlist("roles"), known_roles=_roles(),
                      position_kk=request.form.get("position_kk"), position_ru=request.form.get("position_ru"),
                      now=svc.now())
    except InvalidInput as exc:
        return _refused(organisation_id, exc)
    return _done(organisation_id)


@blueprint.post("/staff/<int:staff_id>/deactivate")
@signed_in
def staff_deactivate(staff_id: int) -> Any:
    """Close an account; its sessions end at once."""
    organisation_id = _organisation_id()
    try:
        with services().uow() as uow:
            deactivate_staff(uow, actor=actor(), organisation_id=organisation_id, staff_id=staff_id,
                             now=services().now())
    except InvalidInput as exc:
        return _refused(organisation_id, exc)
    return _done(organisation_id)


@blueprint.post("/staff/<int:staff_id>/reactivate")
@signed_in
def staff_reactivate(staff_id: int) -> Any:
    """Open a closed account again."""
    organisation_id = _organisation_id()
    with services().uow() as uow:
        reactivate_staff(uow, actor=actor(), organisation_id=organisation_id, staff_id=staff_id, now=services().now())
    return _done(organisation_id)


@blueprint.post("/staff/<int:staff_id>/password")
@signed_in
def staff_password(staff_id: int) -> Any:
    """Set a new password for a member (their sessions end)."""
    organisation_id = _organisation_id()
    try:
        with services().uow() as uow:
            reset_password(uow, actor=actor(), organisation_id=organisation_id, staff_id=staff_id,
                           password=request.form.get("password", ""), now=services().now())
    except InvalidInput as exc:
        return _refused(organisation_id, exc)
    return _done(organisation_id)


@blueprint.route("/organisations", methods=["GET", "POST"])
@signed_in
def organisations() -> Any:
    """The registry (national administrators): search it, and import a registry file."""
    member = actor()
    if not member.national_admin:
        abort(403)
    report, problems = None, []
    svc = services()
    if request.method == "POST":
        upload = request.files.get("registry")
        content = upload.read() if upload is not None else b""
        try:
            with svc.uow() as uow:
                report = import_registry(uow, actor=member, content=content, now=svc.now())
        except RegistryRefused as exc:
            problems = [str(problem) for problem in exc.problems]
        except NotPermitted:
            abort(403)
    search = request.args.get("search", "")
    with svc.uow(write=False) as uow:
        found = uow.organisations.search(search, limit=100)
        total = uow.organisations.count()
    status = 422 if problems else 200
    return render_template("admin_organisations.html", organisations=found, total=total, search=search,
                           report=report, problems=problems), status
