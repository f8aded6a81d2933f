"""The legal team's page in the web app: only the `legal` role reads it; the same document, diagrams marked."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.bootstrap import Services
from service.domain.time import ALMATY
from service.web import create_app

from .support import SCHOOL_25, registry, shipped_services

PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
#: The scenario whose result the page must show, and when its report was written.
SCENARIO = "запрос в пятницу 20 марта 2026 года в 17:00 — срок до конца пятницы 27 марта: 21–25 марта выходные и Наурыз"
RUN_AT = datetime(2026, 3, 27, 18, 45, tzinfo=ALMATY)


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product as shipped, with the demo accounts and a report in which one §5 scenario failed."""
    report = tmp_path / "cucumber.json"
    report.write_text(json.dumps([{"uri": "features/p05_portal.feature", "elements": [
        {"name": SCENARIO, "steps": [{"result": {"status": "passed"}}, {"result": {"status": "failed"}}]},
    ]}]), encoding="utf-8")
    os.utime(report, (RUN_AT.timestamp(), RUN_AT.timestamp()))
    services = shipped_services(tmp_path, database_url, {"HOMESCHOOL_FEATURE_REPORT": str(report)})
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    yield services
    services.database.dispose()


@pytest.fixture
def web(product: Services) -> FlaskClient:
    app = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # the session cookie is Secure
    return client


def sign_in(client: FlaskClient, login: str) -> None:
    response = client.post("/login", data={"login": login, "password": PASSWORDS[login]})
    assert response.status_code == 302, response.data


@pytest.mark.parametrize("login", ["clerk", "admin25", "analyst"])
def test_every_other_role_is_refused(web: FlaskClient, login: str) -> None:
    sign_in(web, login)
    for path in ("/legal", "/legal/document.html", "/legal/document.pdf"):
        response = web.get(path)
        assert response.status_code == 403, (login, path)
        assert "Исполнение Правил" not in response.data.decode()
    assert 'href="/legal"' not in web.get("/tasks").data.decode()


def test_signed_out_visitors_are_sent_to_sign_in(web: FlaskClient) -> None:
    response = web.get("/legal")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_legal_team_reads_the_rules_with_results_and_marked_diagrams(web: FlaskClient) -> None:
    sign_in(web, "legal")
    assert 'href="/legal"' in web.get("/tasks").data.decode()
    response = web.get("/legal")
    assert response.status_code == 200
    html = response.data.decode()
    assert "Көрсетілетін қызметті беруші екі жұмыс күні ішінде көрсетілетін қызметті алушының" in html
    assert "Услугодатель обрабатывает электронный запрос в течение двух рабочих дней" in html
    assert re.search(r'class="result failed">не пройден</span>\s*' + re.escape(SCENARIO), html)
    assert re.search(r"27 мар\. 2026\s?г\., 18:45", html)  # the date of the run (Babel puts a narrow space)
    assert "<li>Проверить и зарегистрировать электронный запрос</li>" in html
    assert re.search(r'<g class="node userTask cited" data-element-id="check_portal_request"', html)
    assert "<style>" not in html  # the page's CSP forbids inline styles: the diagram's come from the stylesheet


def test_the_page_speaks_kazakh(web: FlaskClient) -> None:
    sign_in(web, "legal")
    web.post("/language", data={"lang": "kk", "next": "/legal"})
    html = web.get("/legal").data.decode()
    assert "Қағидалардың орындалуы" in html and re.search(r'class="result failed">өтпеді</span>', html)


def test_the_printable_page_is_downloaded_from_the_page(web: FlaskClient) -> None:
    sign_in(web, "legal")
    response = web.get("/legal/document.html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "@page" in response.data.decode() and "Көрсетілетін қызметті беруші екі жұмыс" in response.data.decode()


def test_an_unreadable_report_is_said_so_not_a_traceback(product: Services, web: FlaskClient) -> None:
    product.settings.feature_report.write_text("{not json", encoding="utf-8")
    sign_in(web, "legal")
    response = web.get("/legal")
    assert response.status_code == 200
    html = response.data.decode()
    assert "Отчёт прочитать не удалось" in html and "не запускался" in html and "Traceback" not in html


def test_an_administrator_may_grant_the_legal_role(product: Services, web: FlaskClient) -> None:
    sign_in(web, "admin25")
    assert 'value="legal"' in web.get("/admin/staff").data.decode()
    response = web.post("/admin/staff", data={
        "organisation": registry(product)[SCHOOL_25], "login": "lawyer25", "full_name": "Заңгер Айнұр",
        "password": "lawyer25-password-2026", "roles": ["legal"], "language": "ru",
    })
    assert response.status_code == 302
    web.post("/logout")
    assert web.post("/login", data={"login": "lawyer25", "password": "lawyer25-password-2026"}).status_code == 302
    assert web.get("/legal").status_code == 200
