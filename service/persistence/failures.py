"""What a database failure means for the caller: try again, a conflict, or the database is unavailable.

Drivers report everything as ``OperationalError``; the SQLSTATE (PostgreSQL) or the SQLite result
code tells a deadlock, which a retry settles, from an outage, which only time settles.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from service.domain.errors import ConcurrencyConflict, DomainError, RetryableConflict, Unavailable

#: PostgreSQL states a retry of the whole transaction settles.
_RETRYABLE_STATES = {"40001": "serialization failure", "40P01": "deadlock"}
#: PostgreSQL states that mean the database cannot take work now (by prefix or exact state).
_UNAVAILABLE_STATES = {
    "08": "connection lost", "25006": "read-only transaction", "53100": "disk full", "53": "out of resources",
    "57P": "server shutting down", "58": "system error",
}
#: SQLite result codes (primary) that mean the database cannot take work now.
_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY: "database is locked", sqlite3.SQLITE_LOCKED: "database is locked",
    sqlite3.SQLITE_READONLY: "read-only database", sqlite3.SQLITE_FULL: "database or disk is full",
    sqlite3.SQLITE_IOERR: "disk I/O error", sqlite3.SQLITE_CANTOPEN: "cannot open the database file",
}


def translate(exc: BaseException) -> DomainError | None:
    """The domain error a database failure stands for, or None if ``exc`` is no database failure."""
    if not isinstance(exc, DBAPIError):
        return None
    state = _sqlstate(exc.orig)
    if state in _RETRYABLE_STATES:
        return RetryableConflict(f"the database broke a tie ({_RETRYABLE_STATES[state]}); try again")
    if state == "55P03":
        return ConcurrencyConflict("the case is being changed by someone else; try again")
    if state is not None:
        reason = _UNAVAILABLE_STATES.get(state) or _UNAVAILABLE_STATES.get(state[:3]) or \
            _UNAVAILABLE_STATES.get(state[:2])
        if reason is not None:
            return Unavailable(reason)
    if isinstance(exc.orig, sqlite3.Error):
        code = getattr(exc.orig, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _SQLITE_UNAVAILABLE:
            return Unavailable(_SQLITE_UNAVAILABLE[code & 0xFF])
    if isinstance(exc, IntegrityError):
        return ConcurrencyConflict("a conflicting change was saved first; try again")
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return Unavailable("connection lost")
    if isinstance(exc, OperationalError):
        return Unavailable(_first_line(exc.orig) or "the database refused the work")
    return None


def _sqlstate(orig: BaseException | None) -> str | None:
    """The five-character SQLSTATE of a PostgreSQL error, if the driver gave one."""
    state = getattr(orig, "sqlstate", None)
    return state if isinstance(state, str) and state else None


def _first_line(orig: BaseException | None) -> str:
    """A short reason: the driver's message up to its first line, without the statement."""
    text = str(orig or "").strip().splitlines()
    return text[0][:160] if text else ""
