"""Signing staff in (argon2 hashes, lockout after repeated failures) and authenticating API clients."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.domain.errors import DomainError, InvalidInput
from service.domain.staff import API_SCOPES, Actor, ApiClientInfo
from service.persistence.uow import UnitOfWork

#: Failed sign-ins in a row before an account is locked, and for how long.
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Checked against an unknown login, so that a wrong login costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class SignInFailed(DomainError):
    """Wrong login or password (deliberately not saying which)."""


class Unauthorised(DomainError):
    """An API call without a valid token, or outside the client's scopes."""


def hash_password(password: str) -> str:
    """An argon2id hash of a password that is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def sign_in(uow: UnitOfWork, *, login: str, password: str, now: datetime) -> Actor:
    """The member of staff with this login and password; failures count towards a lockout.

    An attempt is reserved atomically before the password is checked, so parallel guesses can
    never check more than :data:`MAX_FAILED_SIGN_INS` passwords before the account locks.
    Unknown logins, wrong passwords and locked accounts raise the same SignInFailed.
    """
    found = uow.staff.by_login(login.strip().lower())
    if found is None:
        _verify(_DUMMY_HASH, password)
        raise SignInFailed("wrong login or password")
    member, password_hash, _, _, active = found
    assert member.id is not None
    reserved = uow.staff.reserve_attempt(member.id, MAX_FAILED_SIGN_INS, now, now + LOCKOUT)
    uow.commit()
    if not reserved:
        _verify(_DUMMY_HASH, password)  # the same time as a real check
        raise SignInFailed("wrong login or password, or too many attempts")
    matches = _verify(password_hash, password)  # checked for inactive accounts too: the same time
    if not active or not matches:
        raise SignInFailed("wrong login or password")
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None
    uow.staff.record_success(member.id, rehash)
    uow.commit()
    return member


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def register_api_client(uow: UnitOfWork, *, name: str, scopes: Iterable[str], now: datetime,
                        organisation_id: int | None = None) -> str:
    """Register an outside system; returns its token, which is shown once and stored only as a hash."""
    scopes = set(scopes)
    unknown = scopes - set(API_SCOPES)
    if unknown or not scopes:
        named = ", ".join(sorted(unknown)) or "(none)"
        raise InvalidInput(f"unknown or no scopes: {named}; known: {', '.join(API_SCOPES)}")
    if not name.strip() or uow.api_clients.exists(name.strip()):
        raise InvalidInput(f"API client name '{name}' is empty or taken")
    token = secrets.token_urlsafe(32)
    uow.api_clients.add(name=name.strip(), token_hash=_token_hash(token), scopes=scopes, now=now,
                        organisation_id=organisation_id)
    uow.commit()
    return token


def authenticate_client(uow: UnitOfWork, token: str, scope: str) -> ApiClientInfo:
    """The client a bearer token belongs to, if it may use ``scope``."""
    client = uow.api_clients.by_token_hash(_token_hash(token)) if token else None
    if client is None:
        raise Unauthorised("missing or unknown API token")
    if scope not in client.scopes:
        raise Unauthorised(f"client '{client.name}' may not '{scope}'")
    return client
