"""What a task page and its submission cost in transactions and statements (benchmark 5's request pair).

Not timed: the counts are what the code does, whatever the machine's load. Each figure below was
measured when the test was written; a change that adds a transaction or re-reads the signed-in
person per request makes it fail (raise the bound only with a reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.application.cases import complete_task, deliver_message
from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.bootstrap import Services
from service.persistence.models import OpenTaskRow, OutboxMessage
from service.web import create_app

from .support import at, office_application, owners, person, shipped_services

PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
NOW = at("2026-03-20T11:00+05:00")
VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product as shipped, with the demo accounts and one office application waiting for the head."""
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    with services.uow() as uow:
        deliver_message(uow, services.runtime, actor=person(services, "office_clerk", login="clerk"),
                        name="service_requested", business_key="COST-1", owners=owners(services), now=NOW,
                        payload=office_application("COST-1", NOW))
    yield services
    services.database.dispose()


class Transactions:
    """Counts the units of work (each takes its own connection from the pool) the web app opens."""

    def __init__(self, services: Services) -> None:
        self.opened: list[bool] = []
        original = services.database.connect

        def counted(write: bool = True) -> Any:
            self.opened.append(write)
            return original(write=write)

        services.database.connect = counted  # type: ignore[method-assign]

    def take(self) -> tuple[int, int]:
        """(read-only, writing) opened since the last call."""
        reads, writes = self.opened.count(False), self.opened.count(True)
        self.opened.clear()
        return reads, writes


def _signed_in_head(product: Services) -> FlaskClient:
    app = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    answer = client.post("/login", data={"login": "head", "password": PASSWORDS["head"]})
    assert answer.status_code == 302, answer.data
    return client


def test_a_task_page_and_its_submission_open_few_transactions(product: Services) -> None:
    client = _signed_in_head(product)
    with product.uow(write=False) as uow:
        task_id = uow.session.execute(select(OpenTaskRow.task_id).where(
            OpenTaskRow.element_id == "determine_class_and_language")).scalar_one()
    client.get("/tasks")  # the session's "last seen" is fresh: no touch below
    transactions = Transactions(product)

    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    # The signed-in person with their session (one read), the task and its incident (one), the page (one).
    assert transactions.take() == (3, 0)

    version = VERSION.search(page.text)
    assert version is not None
    done = client.post(f"/tasks/{task_id}", data={"grade": "5", "language": "kk", "version": version.group(1)})
    assert done.status_code == 302, done.text
    # The person (one read), the task, its incident and its forms (one read), the completion (one write).
    assert transactions.take() == (2, 1)


def test_a_task_completion_writes_its_event_log_and_outbox_rows_in_one_statement_each(product: Services) -> None:
    if product.database.dialect != "sqlite":
        pytest.skip("counted with SQLite's statement trace")
    with product.uow(write=False) as uow:
        task_id, case = uow.session.execute(select(OpenTaskRow.task_id, OpenTaskRow.instance_id).where(
            OpenTaskRow.element_id == "determine_class_and_language")).one()
    statements: list[str] = []
    with product.uow() as uow:
        driver = uow.session.connection.dbapi_connection
        assert driver is not None
        driver.set_trace_callback(statements.append)
        try:
            complete_task(uow, product.runtime, actor=person(product, "head", login="head"), task_id=task_id,
                          data={"grade": 5, "language": "kk"}, now=NOW)
        finally:
            driver.set_trace_callback(None)
    with product.uow(write=False) as uow:
        written = [e for e in uow.events.for_instance(case) if e.actor == "head"]
        outbox = uow.session.execute(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.instance_id == case)).scalar_one()
    logged = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO EVENT_LOG")]
    queued = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO OUTBOX")]
    assert len(written) >= 2 and len(logged) == 1, (written, logged)  # several rows, one statement
    assert outbox >= 1 and len(queued) == 1, queued
