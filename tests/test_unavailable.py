"""A database that is down, read-only or full is answered honestly: 503 ``unavailable`` with Retry-After
(API), a clear page (web), one line (CLI) — never 409 "conflict", never a traceback. A huge id is a 404."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, OperationalError

from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.application.staff import register_api_client
from service.bootstrap import Services
from service.cli import main
from service.domain.errors import ConcurrencyConflict, RetryableConflict, Unavailable
from service.persistence.database import Database
from service.persistence.failures import translate
from service.web import create_app

from .support import shipped_services
from .test_sms_gateway import offer_case

#: A PostgreSQL server nobody listens for: every connection is refused.
CLOSED_PORT = "postgresql://postgres@127.0.0.1:1/test"
HUGE = "99999999999999999999999"
PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
REPLY = {"offer_number": "PRO-1", "phone": "+77011234567", "consent": True}


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    working = services.database
    yield services
    services.database.dispose()
    working.dispose()


def _client(product: Services) -> FlaskClient:
    client = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # the session cookie is Secure
    return client


def _sign_in(client: FlaskClient, login: str) -> None:
    assert client.post("/login", data={"login": login, "password": PASSWORDS[login]}).status_code == 302


def _sms_token(product: Services) -> str:
    with product.uow() as uow:
        return register_api_client(uow, name="sms", scopes=("sms:reply",), now=product.now())


def _database_down(product: Services) -> None:
    product.database = Database(CLOSED_PORT.replace("postgresql://", "postgresql+psycopg://"))


def _read_only(product: Services) -> None:
    """Every new connection of the product's database refuses writes, as a read-only replica or file would."""
    database = product.database
    statement = "PRAGMA query_only = ON" if database.dialect == "sqlite" else \
        "SET default_transaction_read_only = on"

    def refuse_writes(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute(statement)
        cursor.close()
        connection.commit()  # PostgreSQL: keep the setting past the pool's rollback

    event.listen(database.write_engine, "connect", refuse_writes)
    database.dispose()


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.data
    assert response.json["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_api_answers_503_when_the_database_is_unreachable(product: Services) -> None:
    token = _sms_token(product)
    _database_down(product)
    response = _client(product).post("/api/v1/sms/replies", json=REPLY, headers={"Authorization": f"Bearer {token}"})
    _assert_unavailable(response)


def test_api_answers_503_when_the_database_is_read_only(product: Services) -> None:
    token = _sms_token(product)
    offer_case(product, "OFFER-RO")
    client = _client(product)
    _read_only(product)
    body = {**REPLY, "offer_number": "OFFER-RO"}
    _assert_unavailable(client.post("/api/v1/sms/replies", json=body, headers={"Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize("language, words", [
    ("ru", "Сервис временно недоступен; повторите попытку через несколько минут"),
    ("kk", "Қызмет уақытша қолжетімсіз; бірнеше минуттан кейін қайталап көріңіз"),
    ("en", "The service is temporarily unavailable; try again in a few minutes"),
])
def test_the_web_shows_a_clear_page_when_the_database_is_down(product: Services, language: str, words: str) -> None:
    client = _client(product)
    _sign_in(client, "clerk")
    with client.session_transaction() as session:
        session["lang"] = language
    _database_down(product)
    response = client.get("/tasks")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert words in page
    assert "Дело изменилось" not in page and "Traceback" not in page


def test_the_web_shows_the_page_when_a_write_meets_a_read_only_database(product: Services) -> None:
    client = _client(product)
    _read_only(product)
    response = client.post("/login", data={"login": "clerk", "password": PASSWORDS["clerk"]})
    assert response.status_code == 503
    assert "Сервис временно недоступен" in response.get_data(as_text=True)


def test_the_cli_prints_one_line_when_the_database_is_down(tmp_path: Path) -> None:
    env = {"DATABASE_URL": CLOSED_PORT, "HOMESCHOOL_INSTANCE_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["db", "current"], env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("homeschool: error: the database is unavailable (")
    assert "Traceback" not in result.output


def _driver_error(orig: BaseException, kind: type[Exception] = OperationalError) -> Exception:
    return kind("SELECT 1", {}, orig)  # type: ignore[call-arg]


@pytest.mark.parametrize("orig, meaning", [
    (psycopg.errors.DeadlockDetected("deadlock detected"), RetryableConflict),
    (psycopg.errors.SerializationFailure("could not serialize"), RetryableConflict),
    (psycopg.errors.DiskFull("could not extend file"), Unavailable),
    (psycopg.errors.ReadOnlySqlTransaction("read-only transaction"), Unavailable),
    (psycopg.errors.AdminShutdown("terminating connection"), Unavailable),
    (psycopg.OperationalError("connection failed: Connection refused"), Unavailable),
    (sqlite3.OperationalError("database is locked"), Unavailable),
])
def test_driver_failures_mean_retry_or_unavailable(orig: BaseException, meaning: type[Exception]) -> None:
    if isinstance(orig, sqlite3.OperationalError):
        orig.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    failure = translate(_driver_error(orig))
    assert type(failure) is meaning


def test_sqlite_disk_full_is_unavailable(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "full.sqlite3")
    connection.execute("PRAGMA max_page_count = 2")
    connection.execute("CREATE TABLE t (x TEXT)")
    with pytest.raises(sqlite3.OperationalError) as caught:
        connection.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    failure = translate(_driver_error(caught.value))
    assert isinstance(failure, Unavailable) and "full" in failure.reason


def test_a_real_conflict_stays_a_conflict() -> None:
    failure = translate(_driver_error(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError))
    assert type(failure) is ConcurrencyConflict


def test_a_huge_id_is_not_found_on_every_route_that_takes_one(product: Services) -> None:
    client = _client(product)
    _sign_in(client, "admin25")
    for method, path in [
        ("GET", f"/cases/{HUGE}"), ("POST", f"/cases/{HUGE}/court-appeal"), ("GET", f"/attachments/{HUGE}"),
        ("GET", f"/documents/{HUGE}"), ("GET", f"/documents/{HUGE}.pdf"),
        ("POST", f"/admin/staff/{HUGE}/roles"), ("POST", f"/admin/staff/{HUGE}/deactivate"),
        ("POST", f"/admin/staff/{HUGE}/reactivate"), ("POST", f"/admin/staff/{HUGE}/password"),
    ]:
        assert client.open(path, method=method).status_code == 404, path
    for path in (f"/admin/staff?organisation={HUGE}", f"/tasks?page={HUGE}",
                 f"/intake/application?organisation={HUGE}"):
        assert client.get(path).status_code in (200, 403), path
    with product.uow() as uow:
        token = register_api_client(uow, name="reader", scopes=("cases:read",), now=product.now())
    response = client.get(f"/api/v1/cases/PRO-1/documents/{HUGE}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
