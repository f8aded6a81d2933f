"""Staff administration: accounts, memberships of organisations and the roles held there.

An organisation's ``administrator`` manages the staff of that organisation; a national
administrator may manage anyone's. The command line (``homeschool staff add``) acts as the
system, for bootstrapping an installation.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from service.domain.errors import InvalidInput, NotFound, NotPermitted
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.persistence.organisation_repository import StaffListing
from service.persistence.uow import UnitOfWork

from .sessions import end_sessions_of
from .staff import hash_password

LANGUAGES = ("kk", "ru", "en")


def may_administer(actor: Actor, organisation_id: int) -> bool:
    """Whether this person manages the staff of ``organisation_id``."""
    return actor.kind == "system" or actor.national_admin or actor.acts_in(organisation_id, "administrator")


def _check_admin(uow: UnitOfWork, actor: Actor, organisation_id: int) -> None:
    if uow.organisations.get(organisation_id) is None:
        raise NotFound(f"there is no organisation {organisation_id}")
    if not may_administer(actor, organisation_id):
        raise NotPermitted("only the organisation's administrator manages its staff")


def _check_roles(roles: Iterable[str], known_roles: Collection[str]) -> set[str]:
    wanted = set(roles)
    unknown = wanted - set(known_roles)
    if unknown:
        raise InvalidInput(f"unknown role(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known_roles))}")
    return wanted


def _staff_of(uow: UnitOfWork, organisation_id: int, staff_id: int) -> StaffListing:
    found = next((m for m in uow.memberships.of_organisation(organisation_id) if m.staff_id == staff_id), None)
    if found is None:
        raise NotFound(f"no member {staff_id} in organisation {organisation_id}")
    return found


def _log(uow: UnitOfWork, actor: Actor, action: str, now: datetime, **details: object) -> None:
    uow.events.append([EventRecord(at=now, actor=actor.login, action=action, details=dict(details))])


def create_staff(
    uow: UnitOfWork, *, actor: Actor, organisation_id: int, login: str, full_name: str, password: str,
    roles: Iterable[str], known_roles: Collection[str], language: str = "ru", position_kk: str = "",
    position_ru: str = "", national_admin: bool = False, now: datetime,
) -> int:
    """Create an account that belongs to ``organisation_id`` with ``roles`` there."""
    _check_admin(uow, actor, organisation_id)
    if national_admin and not (actor.kind == "system" or actor.national_admin):
        raise NotPermitted("only a national administrator makes national administrators")
    wanted = _check_roles(roles, known_roles)
    if not wanted:
        raise InvalidInput(f"give at least one role; known: {', '.join(sorted(known_roles))}")
    if language not in LANGUAGES:
        raise InvalidInput("language must be kk, ru or en")
    login = login.strip().lower()
    if not login or len(login) > 80 or not all(c.isalnum() or c in "._-" for c in login):
        raise InvalidInput("a login is 1–80 letters, digits, dots, dashes or underscores")
    if uow.staff.by_login(login) is not None:
        raise InvalidInput(f"login '{login}' is taken")
    if not full_name.strip():
        raise InvalidInput("give the person's full name")
    staff_id = uow.staff.add(login=login, full_name=full_name.strip()[:200], password_hash=hash_password(password),
                             language=language, national_admin=national_admin, now=now)
    uow.memberships.set(staff_id, organisation_id, wanted, position_kk.strip()[:200], position_ru.strip()[:200])
    _log(uow, actor, "staff_added", now, staff=login, organisation=organisation_id, roles=sorted(wanted))
    uow.commit()
    return staff_id


def set_roles(
    uow: UnitOfWork, *, actor: Actor, organisation_id: int, staff_id: int, roles: Iterable[str],
    known_roles: Collection[str], position_kk: str | None = None, position_ru: str | None = None, now: datetime,
) -> None:
    """Grant and withdraw roles: the person holds exactly ``roles`` in the organisation afterwards."""
    _check_admin(uow, actor, organisation_id)
    member = _staff_of(uow, organisation_id, staff_id)
    wanted = _check_roles(roles, known_roles)
    if staff_id == actor.id and "administrator" in member.roles and "administrator" not in wanted \
            and not actor.national_admin:
        raise InvalidInput("you cannot withdraw your own administrator role")
    uow.memberships.set(staff_id, organisation_id, wanted,
                        member.position_kk if position_kk is None else position_kk.strip()[:200],
                        member.position_ru if position_ru is None else position_ru.strip()[:200])
    _log(uow, actor, "roles_changed", now, staff=member.login, organisation=organisation_id,
         granted=sorted(wanted - member.roles), withdrawn=sorted(member.roles - wanted))
    uow.commit()


def deactivate_staff(uow: UnitOfWork, *, actor: Actor, organisation_id: int, staff_id: int, now: datetime) -> None:
    """Close an account: sign-in is refused and every session it has ends at once."""
    _check_admin(uow, actor, organisation_id)
    member = _staff_of(uow, organisation_id, staff_id)
    if staff_id == actor.id:
        raise InvalidInput("you cannot deactivate your own account")
    uow.memberships.set_active(staff_id, False)
    end_sessions_of(uow, staff_id)
    _log(uow, actor, "staff_deactivated", now, staff=member.login, organisation=organisation_id)
    uow.commit()


def reactivate_staff(uow: UnitOfWork, *, actor: Actor, organisation_id: int, staff_id: int, now: datetime) -> None:
    """Open a deactivated account again."""
    _check_admin(uow, actor, organisation_id)
    member = _staff_of(uow, organisation_id, staff_id)
    uow.memberships.set_active(staff_id, True)
    _log(uow, actor, "staff_reactivated", now, staff=member.login, organisation=organisation_id)
    uow.commit()


def reset_password(
    uow: UnitOfWork, *, actor: Actor, organisation_id: int, staff_id: int, password: str, now: datetime,
) -> None:
    """Set a new password (the person's sessions end; they sign in with the new one)."""
    _check_admin(uow, actor, organisation_id)
    member = _staff_of(uow, organisation_id, staff_id)
    uow.memberships.set_password(staff_id, hash_password(password))
    end_sessions_of(uow, staff_id)
    _log(uow, actor, "password_reset", now, staff=member.login, organisation=organisation_id)
    uow.commit()


def staff_of(uow: UnitOfWork, *, actor: Actor, organisation_id: int) -> list[StaffListing]:
    """The members of an organisation, for its administrator."""
    _check_admin(uow, actor, organisation_id)
    return uow.memberships.of_organisation(organisation_id)


def administered_organisations(actor: Actor) -> list[int]:
    """The organisations whose staff this person manages (a national administrator: see the registry)."""
    return actor.organisations_with("administrator")

