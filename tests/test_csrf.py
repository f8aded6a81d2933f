"""CSRF on every form: each POST route of the staff app (found from the URL map, so a new form is
covered without touching this file) refuses a request without the token, and nothing changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from service.application.demo import ensure_demo_accounts
from service.bootstrap import Services
from service.web import create_app

from .support import at, shipped_services

#: Values for the URL converters of the routes (the route only has to be reached, not to succeed).
_ARGUMENTS = {"int": "1", "default": "x", "string": "x", "path": "x"}


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        ensure_demo_accounts(uow, at("2026-03-20T11:00+05:00"))
    yield services
    services.database.dispose()


def _post_routes(app: Flask) -> list[str]:
    """Every POST URL of the staff app (the API authenticates with tokens, not cookies)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule):
            value = _ARGUMENTS.get(converter or "default", "x")
            url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
        urls.append(url)
    return sorted(urls)


def _signed_in(app: Flask, login: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post("/login", data={"login": login, "password": f"{login}-demo-2026",
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
    return client


def _rows(product: Services) -> tuple[int, ...]:
    with product.database.write_engine.connect() as connection:
        return tuple(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                     for table in ("event_log", "process_instances", "staff_users", "memberships", "organisations"))


def test_every_form_refuses_a_post_without_its_csrf_token(product: Services) -> None:
    app = create_app(product.settings, product, TESTING=True)
    routes = _post_routes(app)
    assert {"/login", "/logout", "/language", "/intake/x", "/tasks/x", "/tasks/x/claim", "/tasks/x/release",
            "/cases/1/court-appeal", "/admin/staff", "/admin/organisations"} <= set(routes)
    for login in ("admin25", "analyst"):  # who may use the administration forms, so only CSRF stops them
        client = _signed_in(app, login)
        before = _rows(product)
        for url in routes:
            response = client.post(url, data={"login": "intruder", "full_name": "X", "password": "p" * 12,
                                              "roles": ["head"], "lang": "kk"})
            assert response.status_code == 400, (login, url, response.status_code)
        assert _rows(product) == before
