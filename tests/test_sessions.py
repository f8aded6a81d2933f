"""Sessions and sign-in: server-side sessions and their idle limit, the atomic failure counter,
one answer (and the same argon2 work) for every failure, rate limits, redirects only to our own
pages, and no caching of personal data. Complements tests/test_access.py and tests/test_csrf.py:
each check here fails when the code it guards is taken out.

Everything runs on the real database (a SQLite file, or a PostgreSQL schema under ``DATABASE_URL``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from service.application import staff as staff_service
from service.application.cases import deliver_message
from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.application.sessions import end_sessions_of, open_session, resume_session
from service.application.staff import MAX_FAILED_SIGN_INS, SignInFailed, register_api_client, sign_in
from service.bootstrap import Services
from service.config import Settings
from service.domain.identity import make_iin
from service.persistence.models import StaffUser
from service.persistence.session_models import StaffSession
from service.web import create_app

from .support import SCHOOL_25, SYSTEM, at, owners, shipped_services

PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
COOKIE = "homeschool_session"
EVIL = ["https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example", "/\t/evil.example",
        "javascript:alert(1)", "/tasks\r\nSet-Cookie: injected=1"]


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product as shipped, on the test database, with the demo registry and accounts."""
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    yield services
    services.database.dispose()


def _app(product: Services, **settings: Any) -> Flask:
    """The web app (CSRF off: it has its own test), with some settings changed."""
    changed = dataclasses.replace(product.settings, **settings)
    return create_app(changed, dataclasses.replace(product, settings=changed), WTF_CSRF_ENABLED=False, TESTING=True)


def _client(app: Flask, address: str = "127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # the session cookie is Secure
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def web(product: Services) -> FlaskClient:
    return _client(_app(product))


def _sign_in(client: FlaskClient, login: str = "clerk") -> None:
    response = client.post("/login", data={"login": login, "password": PASSWORDS[login]})
    assert response.status_code == 302, response.data


def _cookie_session(client: FlaskClient) -> dict[str, Any]:
    """What the signed session cookie holds (it is signed, not encrypted: anyone holding it can read it)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    app = client.application
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return dict(serializer.loads(cookie.value))


def _sessions(product: Services) -> list[tuple[str, int]]:
    with product.uow(write=False) as uow:
        rows = uow.session.execute(text("SELECT token_hash, staff_id FROM staff_sessions ORDER BY token_hash"))
        return [(row.token_hash, row.staff_id) for row in rows]


def _staff_id(product: Services, login: str) -> int:
    with product.uow(write=False) as uow:
        found = uow.staff.by_login(login)
    assert found is not None and found[0].id is not None
    return found[0].id


def _failure_state(product: Services, login: str) -> tuple[int, Any]:
    with product.uow(write=False) as uow:
        row = uow.session.execute(select(StaffUser.failed_logins, StaffUser.locked_until)
                                  .where(StaffUser.login == login)).one()
    return row.failed_logins, row.locked_until


def _resume(product: Services, token: str, now: Any, idle: timedelta | None = None) -> int | None:
    if idle is None:
        return resume_session(lambda: product.uow(write=False), product.write_uow, token, now)
    return resume_session(lambda: product.uow(write=False), product.write_uow, token, now, idle)


# --- server-side sessions -----------------------------------------------------------------------------------------


def test_the_cookie_holds_a_random_token_and_the_database_only_its_hash(product: Services, web: FlaskClient) -> None:
    _sign_in(web)
    held = _cookie_session(web)
    assert isinstance(held.get("sid"), str) and len(held["sid"]) >= 40
    token_hash = hashlib.sha256(held["sid"].encode()).hexdigest()
    assert _sessions(product) == [(token_hash, _staff_id(product, "clerk"))]
    with product.uow(write=False) as uow:  # the token itself is nowhere in the database
        assert uow.session.execute(text("SELECT count(*) FROM staff_sessions WHERE token_hash = :t"),
                                   {"t": held["sid"]}).scalar_one() == 0


def test_a_cookie_copied_before_sign_out_is_signed_out_after_it(product: Services) -> None:
    app = _app(product)
    mine, copy = _client(app), _client(app)
    _sign_in(mine)
    cookie = mine.get_cookie(COOKIE)
    assert cookie is not None
    copy.set_cookie(COOKIE, cookie.value)
    assert copy.get("/tasks").status_code == 200  # the copy works while the session is open

    assert mine.post("/logout").status_code == 302
    assert _sessions(product) == []
    stale = copy.get("/tasks")
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/login")
    assert mine.get("/tasks").status_code == 302


def test_a_session_idle_longer_than_the_setting_is_ended(product: Services) -> None:
    app = _app(product, session_idle_hours=2.0)
    client = _client(app)
    _sign_in(client)
    [(token_hash, _)] = _sessions(product)

    def last_seen(hours_ago: float) -> None:
        with product.uow() as uow:
            uow.session.execute(update(StaffSession).where(StaffSession.token_hash == token_hash)
                                .values(last_seen_at=product.now() - timedelta(hours=hours_ago)))
            uow.commit()

    last_seen(1.9)
    assert client.get("/tasks").status_code == 200  # within the setting: still signed in, and seen now
    last_seen(2.1)
    response = client.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _sessions(product) == []


def test_resume_ends_idle_sessions_and_touches_at_most_once_a_minute(product: Services) -> None:
    clerk = _staff_id(product, "clerk")
    t0 = at("2026-03-20T09:00+05:00")
    with product.uow() as uow:
        token = open_session(uow, clerk, t0)

    def seen() -> Any:
        with product.uow(write=False) as uow:
            return uow.session.execute(select(StaffSession.last_seen_at)).scalar_one()

    before = seen()
    assert _resume(product, token, t0 + timedelta(seconds=30)) == clerk
    assert seen() == before  # not written again within the minute
    assert _resume(product, token, t0 + timedelta(minutes=2)) == clerk
    assert seen() == t0 + timedelta(minutes=2)
    assert _resume(product, "not-" + token, t0 + timedelta(minutes=3)) is None
    # the default idle limit is 8 hours from the last use
    assert _resume(product, token, t0 + timedelta(minutes=2, hours=7, seconds=59)) == clerk
    assert _resume(product, token, t0 + timedelta(minutes=3, hours=16)) is None
    assert _sessions(product) == []
    assert Settings.from_env({}).session_idle_hours == 8.0
    assert Settings.from_env({"HOMESCHOOL_SESSION_IDLE_HOURS": "1.5"}).session_idle_hours == 1.5


def test_ending_a_persons_sessions_leaves_everyone_elses(product: Services) -> None:
    clerk, head = _staff_id(product, "clerk"), _staff_id(product, "head")
    now = product.now()
    with product.uow() as uow:
        tokens = [open_session(uow, clerk, now), open_session(uow, clerk, now)]
    with product.uow() as uow:
        theirs = open_session(uow, head, now)
    with product.uow() as uow:
        end_sessions_of(uow, clerk)
        uow.commit()  # part of the caller's transaction (e.g. deactivating the account)
    assert [_resume(product, token, now) for token in tokens] == [None, None]
    assert _resume(product, theirs, now) == head


# --- the failure counter ------------------------------------------------------------------------------------------


def _count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the hash of every argon2 verification sign-in makes (thread-safe)."""
    seen: list[str] = []
    lock = threading.Lock()
    real = staff_service._verify

    def counting(password_hash: str, password: str) -> bool:
        with lock:
            seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(staff_service, "_verify", counting)
    return seen


def _stored_hash(product: Services, login: str) -> str:
    with product.uow(write=False) as uow:
        found = uow.staff.by_login(login)
    assert found is not None
    return found[1]


def test_parallel_wrong_passwords_get_at_most_five_verifications(
        product: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    verified = _count_verifications(monkeypatch)
    real_hash = _stored_hash(product, "clerk")
    barrier = threading.Barrier(24)
    outcomes: list[str] = []

    def guess(number: int) -> None:
        barrier.wait()
        try:
            with product.uow() as uow:
                sign_in(uow, login="clerk", password=f"wrong-guess-{number:04d}", now=product.now())
            outcomes.append("signed in")
        except SignInFailed:
            outcomes.append("refused")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == ["refused"] * 24
    assert verified.count(real_hash) == MAX_FAILED_SIGN_INS  # the other 19 never reached the password
    assert len(verified) == 24  # ... but cost the same time (the dummy hash)
    failures, locked_until = _failure_state(product, "clerk")
    assert failures == MAX_FAILED_SIGN_INS and locked_until is not None and locked_until > product.now()
    # locked: even the right password is not checked now
    with pytest.raises(SignInFailed), product.uow() as uow:
        sign_in(uow, login="clerk", password=PASSWORDS["clerk"], now=product.now())
    assert verified.count(real_hash) == MAX_FAILED_SIGN_INS


def test_the_lock_runs_out_and_a_success_clears_the_count(product: Services) -> None:
    t0 = at("2026-03-20T09:00+05:00")
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInFailed), product.uow() as uow:
            sign_in(uow, login="clerk", password="wrong-wrong-wrong", now=t0)
    with pytest.raises(SignInFailed), product.uow() as uow:
        sign_in(uow, login="clerk", password=PASSWORDS["clerk"], now=t0 + timedelta(minutes=14))
    with product.uow() as uow:
        member = sign_in(uow, login="clerk", password=PASSWORDS["clerk"], now=t0 + timedelta(minutes=16))
    assert member.login == "clerk"
    assert _failure_state(product, "clerk") == (0, None)
    for count in range(1, 3):  # counting starts again from nothing
        with pytest.raises(SignInFailed), product.uow() as uow:
            sign_in(uow, login="clerk", password="wrong-wrong-wrong", now=t0 + timedelta(minutes=17))
        assert _failure_state(product, "clerk") == (count, None)


# --- one answer for every failure ---------------------------------------------------------------------------------


def _answer(client: FlaskClient, login: str, password: str) -> tuple[int, str]:
    response = client.post("/login", data={"login": login, "password": password})
    page = response.data.decode()
    page = page.replace(f'value="{login}"', 'value="…"')  # the login typed is shown again in the form
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    return response.status_code, page


def test_unknown_login_wrong_password_and_locked_account_get_the_same_answer(
        product: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(_app(product, sign_in_rate_limit="100 per minute"))
    verified = _count_verifications(monkeypatch)
    unknown = _answer(client, "nobody", "whatever-whatever")
    assert len(verified) == 1  # the dummy hash: as slow as a real check
    wrong = _answer(client, "clerk", "wrong-wrong-wrong")
    assert len(verified) == 2
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        _answer(client, "clerk", "wrong-wrong-wrong")
    verified.clear()
    locked = _answer(client, "clerk", PASSWORDS["clerk"])
    assert len(verified) == 1 and verified != [_stored_hash(product, "clerk")]  # dummy, not the password
    with product.uow() as uow:
        uow.session.execute(text("UPDATE staff_users SET active = :no WHERE login = 'head'"), {"no": False})
        uow.commit()
    inactive = _answer(client, "head", PASSWORDS["head"])  # the same words (its timing: see test below)

    assert unknown[0] == wrong[0] == locked[0] == inactive[0] == 401
    assert unknown[1] == wrong[1] == locked[1] == inactive[1]
    assert "Неверный логин или пароль, либо слишком много попыток: повторите позже" in unknown[1]


# --- rate limits --------------------------------------------------------------------------------------------------


def test_sign_in_attempts_are_limited_per_client_address(product: Services) -> None:
    assert Settings.from_env({}).sign_in_rate_limit == "10 per minute"
    app = _app(product, sign_in_rate_limit="3 per minute")
    client, neighbour = _client(app, "10.0.0.1"), _client(app, "10.0.0.2")
    for _ in range(3):
        assert client.post("/login", data={"login": "nobody", "password": "x" * 12}).status_code == 401
    limited = client.post("/login", data={"login": "clerk", "password": PASSWORDS["clerk"]})
    assert limited.status_code == 429
    assert "429 — Слишком много попыток" in limited.data.decode()  # the usual error page, in Russian
    assert int(limited.headers["Retry-After"]) > 0
    assert _failure_state(product, "clerk") == (0, None)  # refused before the account was even looked at
    assert client.get("/login").status_code == 200  # only attempts are counted, not the form
    _sign_in(neighbour)  # another address has its own allowance


def test_api_calls_are_limited_per_token(product: Services) -> None:
    assert Settings.from_env({}).api_rate_limit == "600 per minute"
    with product.uow() as uow:
        first = register_api_client(uow, name="portal-test", scopes=["cases:read"], now=product.now())
    with product.uow() as uow:
        second = register_api_client(uow, name="other-test", scopes=["cases:read"], now=product.now())
    client = _client(_app(product, api_rate_limit="3 per minute"))

    def call(token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get("/api/v1/cases/NO-SUCH-CASE", headers=headers)

    assert [call(first).status_code for _ in range(3)] == [404, 404, 404]
    limited = call(first)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert limited.headers["Cache-Control"] == "no-store"
    assert call(second).status_code == 404  # another token has its own allowance
    assert [call(None).status_code for _ in range(3)] == [401, 401, 401]  # no token: counted by address
    assert call(None).get_json()["error"]["code"] == "rate_limited"


def test_rate_limit_settings_are_checked_at_start_up() -> None:
    with pytest.raises(ValueError, match="HOMESCHOOL_API_RATE_LIMIT"):
        Settings.from_env({"HOMESCHOOL_API_RATE_LIMIT": "lots"})
    settings = Settings.from_env({"HOMESCHOOL_SIGN_IN_RATE_LIMIT": "5 per minute; 50 per hour",
                                  "HOMESCHOOL_RATE_LIMIT_STORAGE": "redis://:secret@127.0.0.1:6379"})
    assert settings.sign_in_rate_limit == "5 per minute; 50 per hour"
    assert dict(settings.describe())["rate_limit_storage"] == "redis://***@127.0.0.1:6379"


# --- redirects only to our own pages ------------------------------------------------------------------------------


def _submit_case(product: Services) -> str:
    """An office application to school № 25 waiting for its head; returns the open task's id."""
    application = {
        "application_number": "APP-1", "channel": "office", "received_at": "2026-03-20T17:00:00+05:00",
        "provider_bin": SCHOOL_25,
        "applicant": {"full_name": "Ахметова Айгүл", "iin": make_iin(at("1985-06-15T00:00+05:00").date(), "female", 7),
                      "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": make_iin(at("2015-04-02T00:00+05:00").date(), "male", 1),
                  "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion", "identity_document"],
    }
    with product.uow() as uow:
        deliver_message(uow, product.runtime, actor=SYSTEM, name="service_requested", business_key="APP-1",
                        payload=application, owners=owners(product, SCHOOL_25), now=at("2026-03-20T17:00+05:00"))
    with product.uow(write=False) as uow:
        return str(uow.session.execute(text("SELECT task_id FROM open_tasks")).scalar_one())


def test_forms_only_send_the_browser_to_our_own_pages(product: Services) -> None:
    task_id = _submit_case(product)
    web = _client(_app(product, sign_in_rate_limit="100 per minute"))
    for evil in EVIL:
        answers = {
            "sign-in": web.post(f"/login?next={quote(evil)}", data={"login": "head", "password": PASSWORDS["head"]}),
            "claim": web.post(f"/tasks/{task_id}/claim", data={"next": evil}),
            "release": web.post(f"/tasks/{task_id}/release", data={"next": evil}),
            "language": web.post("/language", data={"lang": "kk", "next": evil}),
        }
        for form, response in answers.items():
            assert (response.status_code, response.headers.get("Location")) == (302, "/tasks"), (form, evil)
    # our own pages are still followed
    kept = web.post(f"/tasks/{task_id}/claim", data={"next": "/tasks?scope=mine"})
    assert kept.headers["Location"] == "/tasks?scope=mine"
    assert web.post("/language", data={"lang": "ru", "next": "/tasks?page=2"}).headers["Location"] == "/tasks?page=2"


# --- nothing personal is kept in caches ---------------------------------------------------------------------------


def test_pages_and_api_answers_say_no_store_but_public_styles_may_be_cached(
        product: Services, web: FlaskClient) -> None:
    task_id = _submit_case(product)
    assert web.get("/login").headers["Cache-Control"] == "no-store"
    failed = web.post("/login", data={"login": "nobody", "password": "x" * 12})
    assert failed.status_code == 401 and failed.headers["Cache-Control"] == "no-store"
    _sign_in(web, "head")
    app = web.application
    plain_pages = sorted(rule.rule for rule in app.url_map.iter_rules()
                         if "GET" in (rule.methods or ()) and not rule.arguments
                         and rule.endpoint not in ("static", "cases.diagram_css"))
    assert "/tasks" in plain_pages and len(plain_pages) >= 4
    with product.uow(write=False) as uow:
        case_id = uow.session.execute(text("SELECT id FROM process_instances")).scalar_one()
    answers = {path: web.get(path) for path in plain_pages}
    answers |= {"case": web.get(f"/cases/{case_id}"), "task": web.get(f"/tasks/{task_id}"),
                "missing": web.get("/cases/999999"), "claim": web.post(f"/tasks/{task_id}/claim"),
                "api": web.get("/api/v1/cases/APP-1")}
    assert answers["case"].status_code == 200 and answers["task"].status_code == 200
    assert answers["missing"].status_code == 404 and answers["claim"].status_code == 302
    for name, response in answers.items():
        assert response.headers.get("Cache-Control") == "no-store", (name, response.status_code)
    assert web.get("/diagram.css").headers["Cache-Control"] == "public, max-age=3600"
    with web.get("/static/app.css") as stylesheet:
        assert stylesheet.status_code == 200 and "no-store" not in stylesheet.headers.get("Cache-Control", "")
