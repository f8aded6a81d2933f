"""Signed-in sessions kept on the server: signing out or deactivation ends them for good.

The browser's cookie carries a random token; the database keeps only its SHA-256, so a copied
cookie stops working the moment its session row is gone.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

#: A session unused this long is ended.
IDLE_LIMIT = timedelta(hours=8)
#: How often a session's "last seen" is written (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(uow: UnitOfWork, staff_id: int, now: datetime) -> str:
    """Start a session for a person who signed in; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    uow.sessions.add(_hash(token), staff_id, now)
    uow.commit()
    return token


def resume_session(read: Callable[[], UnitOfWork], write: Callable[[], UnitOfWork], token: object, now: datetime,
                   idle_limit: timedelta = IDLE_LIMIT) -> int | None:
    """The person a session token belongs to, if the session is open and not idle too long.

    Reads in a read-only transaction; writes only when the session must be touched or ended.
    """
    if not isinstance(token, str) or not token:
        return None
    digest = _hash(token)
    with read() as uow:
        found = uow.sessions.find(digest)
    if found is None:
        return None
    return _kept(write, digest, found, now, idle_limit)


def session_member(read: Callable[[], UnitOfWork], write: Callable[[], UnitOfWork], token: object, member_id: object,
              now: datetime, idle_limit: timedelta = IDLE_LIMIT) -> Actor | None:
    """The active member of staff a request's session belongs to, or None (what :func:`resume_session` checks).

    The session and the member are read in one read-only transaction (every request of a signed-in
    person asks); the session is touched or ended in its own write only when it must be.
    """
    if not isinstance(token, str) or not token or not isinstance(member_id, int):
        return None
    digest = _hash(token)
    with read() as uow:
        found = uow.sessions.find(digest)
        member = uow.staff.get(member_id) if found is not None and found[0] == member_id else None
    if found is None or _kept(write, digest, found, now, idle_limit) != member_id:
        return None
    return member


def _kept(write: Callable[[], UnitOfWork], digest: str, found: tuple[int, datetime], now: datetime,
          idle_limit: timedelta) -> int | None:
    """The session's person if it is not idle too long (ended if it is); its "last seen" touched when due."""
    staff_id, last_seen = found
    if now - last_seen > idle_limit:
        with write() as uow:
            uow.sessions.end(digest)
            uow.commit()
        return None
    if now - last_seen > TOUCH_EVERY:
        with write() as uow:
            uow.sessions.touch(digest, now)
            uow.commit()
    return staff_id


def end_session(uow: UnitOfWork, token: object) -> None:
    """Sign one session out."""
    if isinstance(token, str) and token:
        uow.sessions.end(_hash(token))
        uow.commit()


def end_sessions_of(uow: UnitOfWork, staff_id: int) -> None:
    """End every session of a person (deactivation, new password); the caller commits."""
    uow.sessions.end_all(staff_id)
