"""A list longer than one page draws its pager: the next page's link keeps the list's filters.

The task list and the case list import their filter macros beside the ``filters`` mapping the
pager reads; the two must not shadow each other (a second page once answered 500).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.application.cases import deliver_message
from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.bootstrap import Services
from service.web import create_app

from .support import at, office_application, owners, person, shipped_services

PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
NOW = at("2026-03-20T11:00+05:00")
CASES = 26  # one more than a page


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product as shipped, with the demo accounts and more office applications than one page holds."""
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    clerk = person(services, "office_clerk", login="clerk")
    for i in range(CASES):
        number = f"PAGE-{i}"
        with services.uow() as uow:
            deliver_message(uow, services.runtime, actor=clerk, name="service_requested", business_key=number,
                            owners=owners(services), now=NOW,
                            payload=office_application(number, NOW, child=1 + i))
    yield services
    services.database.dispose()


def _signed_in(product: Services, login: str) -> FlaskClient:
    app = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    answer = client.post("/login", data={"login": login, "password": PASSWORDS[login]})
    assert answer.status_code == 302, answer.data
    return client


def test_the_task_list_and_the_case_list_link_their_second_page(product: Services) -> None:
    client = _signed_in(product, "head")
    tasks = client.get("/tasks?role=head")
    assert tasks.status_code == 200, tasks.text[-500:]
    following = [link for link in re.findall(r'href="([^"]*)"', tasks.text) if "page=2" in link]
    assert following and all("role=head" in link for link in following), following  # the filter is kept
    cases = client.get("/cases")
    assert cases.status_code == 200, cases.text[-500:]
    assert any("page=2" in link for link in re.findall(r'href="([^"]*)"', cases.text))
