"""Signed-in sessions, by the hash of their token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, bindparam, delete, insert, select, update

from .prepared import Prepared
from .repositories import Repository
from .session_models import StaffSession

_T: Table = StaffSession.__table__  # type: ignore[assignment]
_C = _T.c
# Read at every request of a signed-in person: built once.
_FIND = Prepared(select(_C.staff_id, _C.last_seen_at).where(_C.token_hash == bindparam("token_hash")))


class SessionRepository(Repository):
    """Open, find, touch and end sessions."""

    def add(self, token_hash: str, staff_id: int, now: datetime) -> None:
        """Record a new session."""
        self.session.execute(insert(_T).values(token_hash=token_hash, staff_id=staff_id, created_at=now,
                                               last_seen_at=now))

    def find(self, token_hash: str) -> tuple[int, datetime] | None:
        """(staff id, last seen) of a session, if it is open."""
        row = _FIND.first(self.session, {"token_hash": token_hash})
        return (row[0], row[1]) if row else None

    def touch(self, token_hash: str, now: datetime) -> None:
        """Note that the session was used."""
        self.session.execute(update(_T).where(_C.token_hash == token_hash).values(last_seen_at=now))

    def end(self, token_hash: str) -> None:
        """End one session."""
        self.session.execute(delete(_T).where(_C.token_hash == token_hash))

    def end_all(self, staff_id: int) -> None:
        """End every session of one person."""
        self.session.execute(delete(_T).where(_C.staff_id == staff_id))
