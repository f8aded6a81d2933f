"""Rate limits (Flask-Limiter): sign-in attempts per client address, API calls per token.

Limits are settings (``HOMESCHOOL_SIGN_IN_RATE_LIMIT``, ``HOMESCHOOL_API_RATE_LIMIT``); the counters
live in ``HOMESCHOOL_RATE_LIMIT_STORAGE`` — in memory for one process, a shared store such as
``redis://127.0.0.1:6379`` when several web processes serve one installation.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from service.config import Settings


def _api_key() -> str:
    """The API client, by a hash of its bearer token (its address when it sends none)."""
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode("utf-8")).hexdigest()
    return "address:" + get_remote_address()


def install_limits(app: Flask, settings: Settings, api: Blueprint) -> Limiter:
    """Limit sign-in attempts per address and API calls per token; a breach answers 429."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.rate_limit_storage,
                      headers_enabled=True, key_prefix="homeschool")
    login: Any = app.view_functions["auth.login"]
    app.view_functions["auth.login"] = limiter.limit(settings.sign_in_rate_limit, methods=["POST"])(login)
    limiter.limit(settings.api_rate_limit, key_func=_api_key)(api)
    return limiter
