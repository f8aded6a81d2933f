"""Organisations (the registry) and memberships (who works where, in which roles)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, or_, select, update

from service.domain.organisations import Organisation

from .models import MembershipRow, OrganisationRow, StaffUser
from .repositories import Repository

_Org_T: Table = OrganisationRow.__table__  # type: ignore[assignment]
_Org_C = _Org_T.c
_Membership_T: Table = MembershipRow.__table__  # type: ignore[assignment]
_Membership_C = _Membership_T.c
_StaffUser_T: Table = StaffUser.__table__  # type: ignore[assignment]
_StaffUser_C = _StaffUser_T.c

#: The registry's columns, in the order of :class:`Organisation` (id first).
ORGANISATION_FIELDS = tuple(f.name for f in fields(Organisation))
_COLUMNS = tuple(_Org_C[name] for name in ORGANISATION_FIELDS)


def _organisation(row: Any) -> Organisation:
    return Organisation(**row._mapping)


class OrganisationRepository(Repository):
    """The registry of organisations, keyed by BIN."""

    def get(self, organisation_id: int) -> Organisation | None:
        """One organisation by id."""
        row = self.session.execute(select(*_COLUMNS).where(_Org_C.id == organisation_id)).first()
        return _organisation(row) if row else None

    def by_bin(self, bin_: str) -> Organisation | None:
        """One organisation by its BIN."""
        row = self.session.execute(select(*_COLUMNS).where(_Org_C.bin == bin_)).first()
        return _organisation(row) if row else None

    def by_bins(self, bins: Iterable[str]) -> dict[str, Organisation]:
        """The organisations among ``bins`` that exist, by BIN."""
        wanted = sorted(set(bins))
        found: dict[str, Organisation] = {}
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(select(*_COLUMNS).where(_Org_C.bin.in_(wanted[start:start + 500])))
            found.update({row.bin: _organisation(row) for row in rows})
        return found

    def by_ids(self, ids: Iterable[int]) -> dict[int, Organisation]:
        """The organisations with these ids, by id."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.session.execute(select(*_COLUMNS).where(_Org_C.id.in_(wanted)))
        return {row.id: _organisation(row) for row in rows}

    def add_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Insert new organisations (each a dict of the registry's columns without id)."""
        if rows:
            self.session.execute(insert(_Org_T), [{**row, "updated_at": now} for row in rows])

    def update(self, organisation_id: int, values: dict[str, Any], now: datetime) -> None:
        """Change an organisation's details."""
        self.session.execute(update(_Org_T).where(_Org_C.id == organisation_id).values(**values, updated_at=now))

    def search(self, text: str = "", *, kind: str | None = None, limit: int = 50,
               offset: int = 0) -> list[Organisation]:
        """Organisations whose BIN or name contains ``text``, ordered by region and name."""
        query = select(*_COLUMNS)
        if text:
            pattern = f"%{text.strip().lower()}%"
            query = query.where(or_(_Org_C.bin.like(pattern), func.lower(_Org_C.name_ru).like(pattern),
                                    func.lower(_Org_C.name_kk).like(pattern)))
        if kind:
            query = query.where(_Org_C.kind == kind)
        query = query.order_by(_Org_C.region, _Org_C.name_ru, _Org_C.id).limit(limit).offset(offset)
        return [_organisation(row) for row in self.session.execute(query)]

    def count(self) -> int:
        """How many organisations the registry holds."""
        return int(self.session.execute(select(func.count()).select_from(_Org_T)).scalar_one())


@dataclass(frozen=True)
class StaffListing:
    """A member of one organisation as its administrator sees them (no password hash)."""

    staff_id: int
    login: str
    full_name: str
    active: bool
    roles: frozenset[str]
    position_kk: str
    position_ru: str


class MembershipRepository(Repository):
    """Who belongs to which organisation, in which roles."""

    def set(self, staff_id: int, organisation_id: int, roles: Iterable[str], position_kk: str = "",
            position_ru: str = "") -> None:
        """Give a person exactly ``roles`` in an organisation (no roles: the membership ends)."""
        self.session.execute(delete(_Membership_T).where(
            _Membership_C.staff_id == staff_id, _Membership_C.organisation_id == organisation_id))
        roles = sorted(set(roles))
        if roles:
            self.session.execute(insert(_Membership_T).values(
                staff_id=staff_id, organisation_id=organisation_id, roles=",".join(roles),
                position_kk=position_kk, position_ru=position_ru))

    def of_organisation(self, organisation_id: int) -> list[StaffListing]:
        """The members of one organisation, by name."""
        rows = self.session.execute(
            select(_StaffUser_C.id, _StaffUser_C.login, _StaffUser_C.full_name, _StaffUser_C.active,
                   _Membership_C.roles, _Membership_C.position_kk, _Membership_C.position_ru)
            .join(_Membership_T, _Membership_C.staff_id == _StaffUser_C.id)
            .where(_Membership_C.organisation_id == organisation_id)
            .order_by(_StaffUser_C.full_name, _StaffUser_C.id)
        )
        return [StaffListing(r.id, r.login, r.full_name, r.active, frozenset(filter(None, r.roles.split(","))),
                             r.position_kk, r.position_ru) for r in rows]

    def set_active(self, staff_id: int, active: bool) -> None:
        """Deactivate (or reactivate) an account."""
        self.session.execute(update(_StaffUser_T).where(_StaffUser_C.id == staff_id).values(active=active))

    def set_password(self, staff_id: int, password_hash: str) -> None:
        """Store a new password hash and clear the lockout."""
        self.session.execute(update(_StaffUser_T).where(_StaffUser_C.id == staff_id).values(
            password_hash=password_hash, failed_logins=0, locked_until=None))
