"""Browser journeys of issue 13 (points 1 and 5): one inbox for a head with two roles, search by IIN,
and the duplicate warning at the office intake (Back and "Зарегистрировать" again)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from service.application.cases import deliver_message
from service.application.intake import start_owners
from service.domain.time import format_instant

from ..support import DEPARTMENT, SCHOOL_25, SYSTEM
from .conftest import LiveServer
from .test_staff_journeys import CHILD_IIN, _today, fill_intake, sign_in, submit_office_case

pytestmark = pytest.mark.browser


def complaint_against_school_25(live_server: LiveServer, number: str) -> None:
    """A complaint handed in at school № 25 against it: its head, as the appealed official, considers it."""
    services = live_server.services
    payload = {
        "complaint_number": number, "channel": "electronic", "addressee": "local_executive_body",
        "addressee_bin": DEPARTMENT, "registered_at": format_instant(services.now()),
        "complainant": {"full_name": "Жұмабаев Серік", "email": "serik@example.kz"},
        "appealed": {"subject": "decision", "description": "Отказ в приеме документов"},
        "against_provider": True, "text": "Прошу пересмотреть отказ.", "provider_bin": SCHOOL_25,
    }
    with services.uow() as uow:
        office = uow.organisations.by_bin(SCHOOL_25)
        belongs_to = start_owners(uow, form="complaint_review/complaint_filed", payload=payload, registered_at=office)
        receipt = deliver_message(uow, services.runtime, actor=SYSTEM, name="complaint_filed", business_key=number,
                                  payload=payload, owners=belongs_to, now=services.now())
    assert receipt.instance_id is not None


def test_a_head_with_two_roles_sees_both_tasks_and_finds_the_child_by_iin(page: Page, live_server: LiveServer) -> None:
    submit_office_case(live_server, "APP-HEAD-1")
    complaint_against_school_25(live_server, "COMP-HEAD-1")
    sign_in(page, "head")
    rows = page.get_by_role("row").filter(has=page.get_by_role("link", name=re.compile(r"^(APP|COMP)-HEAD-1$")))
    expect(rows).to_have_count(2)
    application = page.get_by_role("row").filter(has=page.get_by_role("link", name="APP-HEAD-1", exact=True))
    expect(application).to_contain_text("Ахметов Нұрлан")
    page.get_by_role("searchbox").fill(CHILD_IIN)
    page.get_by_role("button", name="Отобрать").click()
    expect(page.get_by_role("link", name="APP-HEAD-1", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="COMP-HEAD-1", exact=True)).to_have_count(0)
    # the case list finds it too
    page.get_by_role("navigation").get_by_role("link", name="Дела", exact=True).click()
    page.get_by_role("searchbox").fill(CHILD_IIN)
    page.get_by_role("button", name="Отобрать").click()
    expect(page.get_by_role("link", name="APP-HEAD-1", exact=True)).to_be_visible()


def test_back_and_register_again_gives_the_same_case_and_a_second_child_case_is_warned(
    page: Page, live_server: LiveServer,
) -> None:
    today = _today(live_server)
    sign_in(page, "clerk")
    page.get_by_role("link", name="Регистрация заявления").click()
    fill_intake(page, today)
    page.get_by_role("button", name="Зарегистрировать").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    first = page.url
    page.go_back()
    page.get_by_role("button", name="Зарегистрировать").click()
    # the same form again: the same case, or — if the browser fetched a fresh form — the warning
    warning = page.get_by_role("alert").filter(has_text="У этого ребенка уже есть открытое дело")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if page.url != first:
        expect(warning).to_be_visible()
    with live_server.services.uow(write=False) as uow:
        assert uow.instances.count() == 1
    # a new form for the same child: the open case is shown, with its link, before anything is registered
    page.goto("/intake/application")
    fill_intake(page, today)
    page.get_by_role("button", name="Зарегистрировать").click()
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name=re.compile(r"^APP-"))).to_have_attribute(
        "href", re.compile(re.escape(first.split("://", 1)[1].split("/", 1)[1]) + "$"))
    with live_server.services.uow(write=False) as uow:
        assert uow.instances.count() == 1
    warning.get_by_label("Всё равно зарегистрировать как новое дело").check()
    page.get_by_role("button", name="Зарегистрировать").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    assert page.url != first
    with live_server.services.uow(write=False) as uow:
        assert uow.instances.count() == 2
