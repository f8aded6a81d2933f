"""Staff journeys in a real browser: what a clerk, a head and a specialist see and do.

Steps find things the way a person does (labels, roles, visible text); the only structural
hook is the diagram's ``data-element-id``, which names a BPMN element on purpose.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from service.application.cases import deliver_message
from service.application.demo import DEMO_ACCOUNTS
from service.domain.identity import make_iin
from service.domain.time import format_instant

from ..support import SCHOOL_25, SYSTEM, owners
from .conftest import LiveServer

pytestmark = pytest.mark.browser

PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}
CHILD_BIRTH = date(2015, 4, 2)
CHILD_IIN = make_iin(CHILD_BIRTH, "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)
#: The IIN of the child with a wrong check digit (a typo in the last digit).
TYPO_IIN = CHILD_IIN[:-1] + str((int(CHILD_IIN[-1]) + 1) % 10)
VKK_GROUP = "Заключение врачебно-консультационной комиссии (ВКК)"
RECEIPT_RU = "Расписка о приеме документов"
RECEIPT_KK = "Құжаттардың қабылданғаны туралы қолхат"
REFUSAL_RU = "Мотивированный отказ в дальнейшем рассмотрении заявления"
REFUSAL_KK = "Өтінішті одан әрі қараудан дәлелді бас тарту"
ORDER_RU = "Приказ о зачислении на индивидуальное бесплатное обучение на дому"
TASK_GONE = "Эту задачу уже выполнил кто-то другой, или она закрыта."


def _today(live_server: LiveServer) -> date:
    return live_server.services.now().date()


def _vkk_dates(today: date) -> tuple[date, date]:
    """A conclusion issued a month ago and valid for a year from today."""
    return today - timedelta(days=30), today + timedelta(days=365)


# --- steps ---------------------------------------------------------------------------------------------------------


def sign_in(page: Page, login: str, *, login_label: str = "Логин", password_label: str = "Пароль",
            button: str = "Вход", landing: str = "Задачи") -> None:
    page.goto("/login")
    page.get_by_label(login_label).fill(login)
    page.get_by_label(password_label).fill(PASSWORDS[login])
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=landing)).to_be_visible()


def sign_out(page: Page, button: str = "Выход") -> None:
    page.get_by_role("button", name=button, exact=True).click()
    expect(page).to_have_url(re.compile(r"/login$"))


ALL_DOCUMENTS = ("заявление", "заключение ВКК", "документ, удостоверяющий личность")


def fill_intake(page: Page, today: date, *, child_iin: str = CHILD_IIN, documents: tuple[str, ...] = ALL_DOCUMENTS,
                ) -> None:
    """The clerk's walk-in registration form, every field through its label."""
    issued_on, valid_until = _vkk_dates(today)
    applicant = page.get_by_role("group", name="Услугополучатель", exact=True)
    applicant.get_by_label("Фамилия, имя, отчество").fill("Ахметова Айгүл Серікқызы")
    applicant.get_by_label("ИИН").fill(PARENT_IIN)
    applicant.get_by_label("Номер абонентского устройства сотовой связи").fill("+77011234567")
    applicant.get_by_label("Кем приходится ребенку").select_option(label="родитель")
    child = page.get_by_role("group", name="Ребенок", exact=True)
    child.get_by_label("Фамилия, имя, отчество").fill("Ахметов Нұрлан")
    child.get_by_label("ИИН").fill(child_iin)
    child.get_by_label("Дата рождения").fill(CHILD_BIRTH.isoformat())
    vkk = page.get_by_role("group", name=VKK_GROUP, exact=True)
    vkk.get_by_label("Номер заключения").fill("ВКК-17")
    vkk.get_by_label("Дата выдачи").fill(issued_on.isoformat())
    vkk.get_by_label("Действительно до").fill(valid_until.isoformat())
    vkk.get_by_label("Рекомендовано индивидуальное бесплатное обучение на дому").select_option(label="Да")
    handed_in = page.get_by_role("group", name="Представленные документы")
    for document in documents:
        handed_in.get_by_label(document, exact=True).check()


def register_application(page: Page, today: date, documents: tuple[str, ...] = ALL_DOCUMENTS) -> str:
    """Open the intake form from the menu, fill it, register; returns the case page's heading."""
    page.get_by_role("link", name="Регистрация заявления").click()
    fill_intake(page, today, documents=documents)
    page.get_by_role("button", name="Зарегистрировать").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Дело APP-"))
    return heading.inner_text()


def document_item(page: Page, title: str, language: str) -> Locator:
    """The entry of an issued document in the case's list: '<title> № <number> (<language>) — Печать · …'."""
    return page.get_by_role("listitem").filter(has_text=re.compile(rf"^{re.escape(title)} .*\({language}\)"))


def open_task(page: Page, title: str, case_heading: str) -> None:
    """From the task list: the row of this case, then the task's link."""
    business_key = case_heading.removeprefix("Дело ")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=business_key, exact=True))
    row.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def complete(page: Page) -> None:
    page.get_by_role("button", name="Выполнить").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    expect(page.get_by_role("status")).to_have_text("Сохранено")


def submit_office_case(live_server: LiveServer, number: str) -> int:
    """A complete office application to school № 25 delivered straight to the process (set-up, not a journey)."""
    services = live_server.services
    belongs_to = owners(services, SCHOOL_25)
    now = services.now()
    issued_on, valid_until = _vkk_dates(now.date())
    request = {
        "application_number": number, "channel": "office", "received_at": format_instant(now),
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": CHILD_BIRTH.isoformat()},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": issued_on.isoformat(),
                           "valid_until": valid_until.isoformat(), "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion", "identity_document"], "provider_bin": SCHOOL_25,
    }
    with services.uow() as uow:
        receipt = deliver_message(uow, services.runtime, actor=SYSTEM, name="service_requested", business_key=number,
                                  payload=request, owners=belongs_to, now=now)
    assert receipt.instance_id is not None
    return receipt.instance_id


# --- journeys ------------------------------------------------------------------------------------------------------


def test_office_application_from_intake_to_admission_order(page: Page, live_server: LiveServer) -> None:
    today = _today(live_server)
    _, valid_until = _vkk_dates(today)

    # the clerk registers the walk-in application and hands over the receipt
    sign_in(page, "clerk")
    case = register_application(page, today)
    expect(document_item(page, RECEIPT_RU, "ru")).to_be_visible()
    expect(document_item(page, RECEIPT_KK, "kk")).to_be_visible()
    with page.context.expect_page() as opened:
        document_item(page, RECEIPT_RU, "ru").get_by_role("link", name="Печать").click()
    receipt = opened.value
    expect(receipt.get_by_role("heading", level=1, name=RECEIPT_RU)).to_be_visible()
    expect(receipt.get_by_role("cell", name=case.removeprefix("Дело "), exact=True)).to_be_visible()
    receipt.close()
    sign_out(page)

    # the head sets the grade and the language of instruction
    sign_in(page, "head")
    open_task(page, "Определить класс и язык обучения", case)
    page.get_by_label("Класс").fill("5")
    page.get_by_label("Язык обучения").select_option(label="казахский")
    complete(page)
    sign_out(page)

    # the specialist organises the schooling within the VKK conclusion's validity
    sign_in(page, "specialist")
    open_task(page, "Организовать обучение на дому", case)
    teachers = page.get_by_role("group", name="Учителя")
    teachers.get_by_label("Фамилия, имя, отчество").first.fill("Серікбаева Гүлнар")
    teachers.get_by_label("Предмет").first.fill("Математика")
    page.get_by_label("Недельная учебная нагрузка, часов").fill("8")
    page.get_by_label("Индивидуальный учебный план (реквизиты)").fill("ИУП № 12 от " + today.isoformat())
    page.get_by_label("Начало обучения на дому").fill(today.isoformat())
    page.get_by_label("Окончание обучения на дому").fill((valid_until - timedelta(days=1)).isoformat())
    complete(page)
    sign_out(page)

    # the head issues the order; the case is complete
    sign_in(page, "head")
    open_task(page, "Издать приказ о зачислении", case)
    page.get_by_label("Номер приказа").fill("ПР-45")
    page.get_by_label("Дата приказа").fill(today.isoformat())
    complete(page)

    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(case)
    expect(main).to_contain_text("Состояние: Завершено")
    expect(document_item(page, ORDER_RU, "ru")).to_be_visible()
    expect(page.get_by_role("figure", name="Схема процесса")).to_be_visible()
    expect(page.locator('[data-element-id="service_provided"]')).to_have_class(re.compile(r"\bcompleted\b"))


def test_incomplete_package_gets_a_reasoned_refusal(page: Page, live_server: LiveServer) -> None:
    sign_in(page, "clerk")
    case = register_application(page, _today(live_server),
                                documents=("заявление", "документ, удостоверяющий личность"))
    # only a person refuses: nothing is issued until the clerk confirms the refusal
    expect(page.get_by_role("main")).to_contain_text("Состояние: В работе")
    expect(document_item(page, REFUSAL_RU, "ru")).to_have_count(0)
    page.get_by_role("link", name="Задачи", exact=True).click()
    open_task(page, "Подтвердить отказ или исправить сведения", case)
    page.get_by_label("Решение").select_option(label="подтверждаю отказ по названным причинам")
    complete(page)
    expect(page.get_by_role("main")).to_contain_text("Состояние: Завершено")
    expect(page.get_by_role("main")).to_contain_text("Недостатки пакета документов")
    expect(document_item(page, REFUSAL_RU, "ru")).to_be_visible()
    expect(document_item(page, REFUSAL_KK, "kk")).to_be_visible()
    expect(document_item(page, RECEIPT_RU, "ru")).to_have_count(0)

    # the printed refusal names the missing document and the legal ground
    with page.context.expect_page() as opened:
        document_item(page, REFUSAL_RU, "ru").get_by_role("link", name="Печать").click()
    refusal = opened.value
    expect(refusal.get_by_role("heading", level=1, name=REFUSAL_RU)).to_be_visible()
    reasons = refusal.get_by_role("listitem").filter(has_text="Не представлен документ: заключение ВКК.")
    expect(reasons).to_have_count(1)
    expect(reasons).to_contain_text("Правовое основание")
    expect(refusal.locator("body")).to_contain_text("Сәрсенова Әсел Нұрланқызы")  # who confirmed it


def test_a_form_error_is_shown_beside_the_field_and_typed_values_are_kept(
        page: Page, live_server: LiveServer) -> None:
    sign_in(page, "clerk")
    page.get_by_role("link", name="Регистрация заявления").click()
    fill_intake(page, _today(live_server), child_iin=TYPO_IIN)
    page.get_by_role("button", name="Зарегистрировать").click()

    expect(page).to_have_url(re.compile(r"/intake/application$"))
    expect(page.get_by_role("alert")).to_contain_text("Проверьте форму")
    child = page.get_by_role("group", name="Ребенок", exact=True)
    iin = child.get_by_label("ИИН")
    expect(iin).to_have_attribute("aria-invalid", "true")
    expect(iin).to_have_accessible_description(re.compile(r"контрольная \(последняя\) цифра ИИН"))
    expect(iin).to_have_value(TYPO_IIN)
    expect(child.get_by_label("Фамилия, имя, отчество")).to_have_value("Ахметов Нұрлан")
    expect(child.get_by_label("Дата рождения")).to_have_value(CHILD_BIRTH.isoformat())
    expect(page.get_by_role("group", name="Услугополучатель", exact=True).get_by_label("Кем приходится ребенку")
           ).to_have_value("parent")
    expect(page.get_by_role("group", name=VKK_GROUP).get_by_label("Номер заключения")).to_have_value("ВКК-17")
    expect(page.get_by_role("group", name="Представленные документы").get_by_label("заявление", exact=True)
           ).to_be_checked()
    with live_server.services.uow(write=False) as uow:
        assert uow.instances.count() == 0, "nothing may be registered from an invalid form"


def test_kazakh_interface_sticks_across_pages_and_sign_ins(page: Page, live_server: LiveServer,
                                                          chromium: Browser) -> None:
    sign_in(page, "clerk")
    page.get_by_label("Язык", exact=True).select_option(label="Қазақша")
    page.get_by_role("button", name="Сменить язык", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Тапсырмалар")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "kk")

    # another page: the intake form's own labels follow the interface language
    page.get_by_role("link", name="Өтінішті тіркеу").click()
    expect(page.get_by_role("group", name="Бала", exact=True).get_by_label("Туған күні")).to_be_visible()
    expect(page.get_by_role("button", name="Тіркеу")).to_be_visible()

    # signing out and in again keeps it
    sign_out(page, button="Шығу")
    expect(page.get_by_role("heading", level=1, name="Кіру")).to_be_visible()
    sign_in(page, "clerk", password_label="Құпиясөз", button="Кіру", landing="Тапсырмалар")

    # it is remembered for the person: a fresh browser (no cookies) signs in to Kazakh too
    other = chromium.new_context(base_url=live_server.url)
    try:
        elsewhere = other.new_page()
        sign_in(elsewhere, "clerk", landing="Тапсырмалар")
        expect(elsewhere.get_by_role("link", name="Тапсырмалар")).to_be_visible()
    finally:
        other.close()


def test_a_task_completed_in_one_tab_is_not_completed_again_from_another(
        page: Page, live_server: LiveServer) -> None:
    case_id = submit_office_case(live_server, "APP-TWO-TABS")
    sign_in(page, "head")
    open_task(page, "Определить класс и язык обучения", "Дело APP-TWO-TABS")
    second = page.context.new_page()
    second.goto(page.url)
    for tab in (page, second):
        tab.get_by_label("Класс").fill("5")
        tab.get_by_label("Язык обучения").select_option(label="русский")

    complete(page)
    second.get_by_role("button", name="Выполнить").click()
    expect(second.get_by_role("alert")).to_have_text(TASK_GONE)
    expect(second.get_by_role("heading", level=1)).to_contain_text("409")

    second.goto(f"/cases/{case_id}")
    history = second.get_by_role("table").filter(has=second.get_by_role("columnheader", name="Когда"))
    expect(history.get_by_role("row").filter(has_text="Задача выполнена")).to_have_count(1)


def test_another_schools_staff_neither_see_the_task_nor_open_the_case(page: Page, live_server: LiveServer) -> None:
    case_id = submit_office_case(live_server, "APP-SCHOOL-25")
    sign_in(page, "head112")
    expect(page.get_by_role("link", name="APP-SCHOOL-25", exact=True)).to_have_count(0)
    response = page.goto(f"/cases/{case_id}")
    assert response is not None and response.status == 404
    sign_out(page)

    sign_in(page, "head")  # school № 25's head has it
    expect(page.get_by_role("link", name="APP-SCHOOL-25", exact=True)).to_be_visible()
