"""The operations page (incidents with filters, stuck outbox and inbox), and incidents on the case and task pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.application.cases import deliver_message
from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.bootstrap import Services
from service.domain.identity import make_iin
from service.web import create_app
from service.web.i18n import translate

from .support import SCHOOL_25, SCHOOL_112, SYSTEM, at, owners, shipped_services

NOW = at("2026-04-01T12:00+05:00")
PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
CHILD_IIN = make_iin(date(2015, 4, 2), "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)
FULL_ERROR = ("processes/service_delivery.bpmn:120, element 'check_package' (Проверка пакета): "
              "ZeroDivisionError: division by zero\n  secret detail: line 3 of the script\n"
              "ZeroDivisionError: division by zero")


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product as shipped with the demo accounts, its clock stopped at NOW."""
    services = shipped_services(tmp_path, database_url)
    services.now = lambda: NOW  # type: ignore[method-assign]
    with services.uow() as uow:
        ensure_demo_accounts(uow, NOW)
    yield services
    services.database.dispose()


def _client(product: Services, login: str | None = None) -> FlaskClient:
    client = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    if login:
        response = client.post("/login", data={"login": login, "password": PASSWORDS[login]})
        assert response.status_code == 302, response.data
    return client


def _case(product: Services, number: str, school: str = SCHOOL_25) -> int:
    application = {
        "application_number": number, "channel": "office", "received_at": "2026-03-20T17:00:00+05:00",
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion", "identity_document"], "provider_bin": school,
    }
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, actor=SYSTEM, name="service_requested", business_key=number,
                                  payload=application, owners=owners(product, school),
                                  now=at("2026-03-20T17:00+05:00"))
    assert receipt.instance_id is not None
    return receipt.instance_id


def _incident(product: Services, case: int, *, kind: str = "timer", element: str = "check_package",
              error: str = FULL_ERROR, resolved: bool = False) -> int:
    with product.uow() as uow:
        incident = uow.incidents.record(instance_id=case, kind=kind, error=error, element_id=element,
                                        element_name=f"Name of {element}", now=NOW - timedelta(hours=3),
                                        next_try_at=NOW + timedelta(minutes=5))
        if resolved:
            uow.incidents.resolve(incident.id, by="admin25", resolution="fixed", now=NOW)
        uow.commit()
    return incident.id


def _shown(html: bytes, what: str) -> set[int]:
    return {int(n) for n in re.findall(rf'data-{what}-id="(\d+)"', html.decode())}


# --- the operations page -------------------------------------------------------------------------


def test_operations_page_lists_incidents_by_status_process_element_and_kind(product: Services) -> None:
    timer = _incident(product, _case(product, "OP-1"), kind="timer", element="check_package")
    task = _incident(product, _case(product, "OP-2"), kind="task", element="review_by_head")
    done = _incident(product, _case(product, "OP-3"), kind="message", element="check_package", resolved=True)
    web = _client(product, "analyst")
    page = web.get("/operations")
    assert page.status_code == 200
    assert _shown(page.data, "incident") == {timer, task}
    body = page.data.decode()
    assert "OP-1" in body and "Name of check_package" in body and "ZeroDivisionError: division by zero" in body
    assert _shown(web.get("/operations?status=resolved").data, "incident") == {done}
    assert _shown(web.get("/operations?status=all").data, "incident") == {timer, task, done}
    assert _shown(web.get("/operations?kind=task").data, "incident") == {task}
    assert _shown(web.get("/operations?status=all&element=check_package").data, "incident") == {timer, done}
    assert _shown(web.get("/operations?process=service_delivery").data, "incident") == {timer, task}
    assert _shown(web.get("/operations?process=proactive_offer").data, "incident") == set()
    assert _shown(web.get("/operations?status=bogus&kind=bogus").data, "incident") == {timer, task}


@pytest.mark.parametrize("login", ["clerk", "head", "specialist"])
def test_staff_without_administrator_or_analyst_role_get_403(product: Services, login: str) -> None:
    web = _client(product, login)
    assert web.get("/operations").status_code == 403
    assert b'href="/operations"' not in web.get("/tasks").data


def test_administrator_sees_only_the_cases_of_the_organisation_administered(product: Services) -> None:
    own = _incident(product, _case(product, "OP-25"))
    _incident(product, _case(product, "OP-112", SCHOOL_112))
    web = _client(product, "admin25")
    assert b'href="/operations"' in web.get("/admin/staff").data
    page = web.get("/operations?status=all")
    assert page.status_code == 200 and _shown(page.data, "incident") == {own}
    assert b"OP-112" not in page.data


def test_retrying_the_listed_cases_reaches_only_the_administrators_own(product: Services) -> None:
    own = _case(product, "OP-R25")
    other = _case(product, "OP-R112", SCHOOL_112)
    _incident(product, own)
    _incident(product, other)
    web = _client(product, "admin25")
    assert "Повторить сейчас все показанные дела (1)" in web.get("/operations").data.decode()
    answer = web.post("/operations/retry", data={"process": "service_delivery"}, follow_redirects=True)
    assert answer.status_code == 200
    # the case's timers were due, so it moved on
    assert "Повторено дел: 1; продвинулись: 1; выполнять было нечего: 0; не удалось: 0." in answer.data.decode()
    with product.uow(write=False) as uow:
        resolved = uow.incidents.for_instance(own)
        assert [(i.open, i.resolved_by) for i in resolved] == [(False, "admin25")]
        assert uow.incidents.open_for(other) is not None  # another school's case is not touched


def test_staff_without_the_operations_role_may_not_retry_the_listed_cases(product: Services) -> None:
    case = _case(product, "OP-R")
    _incident(product, case)
    assert _client(product, "clerk").post("/operations/retry", data={}).status_code == 403
    with product.uow(write=False) as uow:
        incident = uow.incidents.open_for(case)
    assert incident is not None and incident.tries == 1


def test_outbox_failing_and_inbox_untaken_longer_than_the_settings_are_listed(product: Services) -> None:
    case = _case(product, "OP-5")
    with product.uow() as uow:
        for key, age in (("old-sms", 30), ("new-sms", 1)):
            uow.outbox.add(channel="sms", name="sms.offer", idempotency_key=key, instance_id=case,
                           business_key="OP-5", payload={}, now=NOW - timedelta(hours=age))
        old = uow.outbox.by_key("old-sms")
        new = uow.outbox.by_key("new-sms")
        assert old is not None and new is not None
        uow.outbox.mark_failed(old.id, "HTTP 502 from the SMS gateway", NOW + timedelta(minutes=1))
        uow.outbox.mark_failed(new.id, "HTTP 502 from the SMS gateway", NOW + timedelta(minutes=1))
        kept_old = uow.inbox.add("sms_reply", "OFFER-9", {}, "in-old", NOW - timedelta(hours=25))
        kept_new = uow.inbox.add("sms_reply", "OFFER-10", {}, "in-new", NOW - timedelta(hours=2))
        taken = uow.inbox.add("sms_reply", "OFFER-11", {}, "in-taken", NOW - timedelta(hours=40))
        uow.inbox.mark_delivered(taken, case, NOW - timedelta(hours=39))
        # the case's own messages were queued on 20 March: delivered ones are never stale
        for item in uow.outbox.listing(instance_id=case, pending_only=True, limit=100):
            if item.id not in (old.id, new.id):
                uow.outbox.mark_delivered(item.id, "spool:test", NOW)
        uow.commit()
    page = _client(product, "analyst").get("/operations")
    assert _shown(page.data, "outbox") == {old.id}
    assert _shown(page.data, "inbox") == {kept_old}
    body = page.data.decode()
    row = body[body.index(f'data-outbox-id="{old.id}"'):]
    row = row[:row.index("</tr>")]
    assert "OP-5" in row and "sms.offer" in row and "HTTP 502 from the SMS gateway" in row and ">1<" in row
    assert "30 ч" in row  # its age
    assert "дольше 24 ч" in body
    assert kept_new not in _shown(page.data, "inbox")
    # an organisation's administrator sees the outbox of its cases, and no inbox (it belongs to no case yet)
    admin = _client(product, "admin25").get("/operations")
    assert _shown(admin.data, "outbox") == {old.id} and _shown(admin.data, "inbox") == set()


def test_operations_page_in_kazakh(product: Services) -> None:
    _incident(product, _case(product, "OP-KK"))
    web = _client(product, "analyst")
    web.post("/language", data={"lang": "kk", "next": "/operations"})
    body = web.get("/operations").data.decode()
    for key in ("operations", "incidents", "diagram_element", "first_occurrence", "tries", "next_try",
                "incident_kind_timer"):
        assert translate(key, "kk") in body, key
    assert "Инциденты" not in body


# --- the case page and the task page -----------------------------------------------------------------


def test_case_page_shows_the_open_incident_and_the_full_error_only_to_administrators(product: Services) -> None:
    case = _case(product, "OP-CASE")
    _incident(product, case)
    clerk = _client(product, "clerk").get(f"/cases/{case}").data.decode()
    assert translate("case_incident", "ru") in clerk and "Name of check_package" in clerk
    assert "ZeroDivisionError: division by zero" in clerk  # the summary: the error's last line
    assert "secret detail" not in clerk and "service_delivery.bpmn:120" not in clerk
    # an administrator of the school who also works a lane (and so may read the case) sees the whole error
    with product.uow() as uow:
        found = uow.staff.by_login("admin25")
        assert found is not None and found[0].id is not None
        uow.memberships.set(found[0].id, owners(product, SCHOOL_25).organisation_id, ["administrator", "head"])
        uow.commit()
    admin = _client(product, "admin25").get(f"/cases/{case}").data.decode()
    assert "secret detail" in admin and "service_delivery.bpmn:120" in admin


def test_case_page_without_an_incident_shows_none(product: Services) -> None:
    case = _case(product, "OP-FINE")
    _incident(product, case, resolved=True)
    assert translate("case_incident", "ru") not in _client(product, "clerk").get(f"/cases/{case}").data.decode()


def test_task_of_a_case_with_an_incident_shows_the_message_and_refuses_submission(product: Services) -> None:
    case = _case(product, "OP-TASK")
    head = _client(product, "head")
    task_ids = re.findall(r'/tasks/([0-9a-f-]{36})"', head.get("/tasks").data.decode())
    assert task_ids, "the head has a task on the new case"
    task_id = task_ids[0]
    assert b'name="version"' in head.get(f"/tasks/{task_id}").data  # the form, while the case is well
    _incident(product, case)
    page = head.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    assert translate("task_blocked", "ru") in page.data.decode() and b'name="version"' not in page.data
    refused = head.post(f"/tasks/{task_id}", data={"version": "1", "grade": "3"})
    assert refused.status_code == 409 and translate("task_blocked", "ru") in refused.data.decode()
    with product.uow(write=False) as uow:
        assert uow.tasks.get(task_id) is not None  # still open: nothing was completed
