"""Task pages in a real browser: the case beside the task, a task a colleague took, rows, phone width.

Set-up goes straight to the services (a delivered case, a second head); the steps are what a person does.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from service.application.demo import DemoAccount, ensure_demo_accounts

from ..support import SCHOOL_25
from ..test_task_forms import COMPLAINT
from ..test_web import _client, _task_ids
from ..test_web import sign_in as web_sign_in
from .conftest import STEP_TIMEOUT_MS, LiveServer
from .test_staff_journeys import sign_in, sign_out, submit_office_case

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def task_url(live_server: LiveServer, instance_id: int, element_id: str) -> str:
    with live_server.services.uow(write=False) as uow:
        [task] = [t for t in uow.tasks.for_instance(instance_id) if t.element_id == element_id]
    return f"/tasks/{task.task_id}"


def fact(page: Page, label: str) -> str:
    """The text of one fact beside the task, found by its label."""
    facts = page.get_by_role("region", name="Сведения дела для решения")
    term = facts.locator("dt", has_text=re.compile(rf"^{re.escape(label)}$"))
    return " ".join(term.locator("xpath=following-sibling::dd[1]").inner_text().split())


def decide_grade(page: Page, grade: str, language: str) -> None:
    page.get_by_label("Класс", exact=True).fill(grade)
    page.get_by_label("Язык обучения", exact=True).select_option(label=language)
    page.get_by_role("button", name="Выполнить").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))


def test_the_head_and_the_specialist_see_what_they_decide_on(page: Page, live_server: LiveServer) -> None:
    case = submit_office_case(live_server, "APP-CTX-1")
    sign_in(page, "head")
    page.goto(task_url(live_server, case, "determine_class_and_language"))
    assert "ВКК-17" in fact(page, "Заключение ВКК")
    assert "Ахметов Нұрлан" in fact(page, "Ребёнок")
    decide_grade(page, "8", "казахский")
    sign_out(page)
    sign_in(page, "specialist")
    page.goto(task_url(live_server, case, "organise_home_schooling"))
    assert fact(page, "Класс (определён руководителем)") == "8"
    assert fact(page, "Язык обучения (определён руководителем)") == "казахский"


def test_a_task_a_colleague_took_is_read_only_with_her_name(chromium: Browser, page: Page,
                                                            live_server: LiveServer) -> None:
    with live_server.services.uow() as uow:
        ensure_demo_accounts(uow, live_server.services.now(), (DemoAccount(
            "head25b", "head25b-demo-2026", "Омаров Бауыржан Кенжеұлы", SCHOOL_25, ("head",)),))
    case = submit_office_case(live_server, "APP-CTX-2")
    url = task_url(live_server, case, "determine_class_and_language")
    sign_in(page, "head")
    page.goto("/tasks")
    page.get_by_role("row").filter(has_text="APP-CTX-2").get_by_role("button", name=re.compile("Взять")).click()
    colleague = chromium.new_context(base_url=live_server.url, locale="ru-RU").new_page()
    colleague.set_default_timeout(STEP_TIMEOUT_MS)
    colleague.goto("/login")
    colleague.get_by_label("Логин").fill("head25b")
    colleague.get_by_label("Пароль").fill("head25b-demo-2026")
    colleague.get_by_role("button", name="Вход", exact=True).click()
    colleague.goto(url)
    expect(colleague.get_by_role("status")).to_contain_text("Сәрсенбаева Гүлнұр Қайратқызы")
    expect(colleague.get_by_role("button", name="Выполнить")).to_have_count(0)
    expect(colleague.get_by_label("Класс", exact=True)).to_be_disabled()
    colleague.context.close()


def test_a_row_is_added_and_removed_without_a_submit(page: Page, live_server: LiveServer) -> None:
    case = submit_office_case(live_server, "APP-CTX-3")
    sign_in(page, "head")
    page.goto(task_url(live_server, case, "determine_class_and_language"))
    decide_grade(page, "8", "казахский")
    sign_out(page)
    sign_in(page, "specialist")
    page.goto(task_url(live_server, case, "organise_home_schooling"))
    teachers = page.get_by_role("group", name=re.compile(r"^Учителя"))
    rows = teachers.locator("fieldset.row")
    expect(rows).to_have_count(2)
    rows.nth(0).get_by_label("Предмет").fill("Математика")
    page.evaluate("window.__notReloaded = true")
    for _ in range(3):
        teachers.get_by_role("button", name="Добавить строку").click()
    expect(rows).to_have_count(5)  # a timetable with five subjects, without a failed submit
    expect(rows.nth(4).get_by_label("Фамилия, имя, отчество (при его наличии)")).to_be_focused()
    assert page.evaluate("window.__notReloaded") is True
    rows.nth(1).get_by_role("button", name="Удалить строку").click()
    expect(rows).to_have_count(4)
    expect(rows.nth(0).get_by_label("Предмет")).to_have_value("Математика")
    for index, (name, subject) in enumerate([("Серікова Алма", "Математика"), ("Ли Ольга", "Русский язык"),
                                             ("Ким Анна", "Физика"), ("Бекова Айым", "История")]):
        rows.nth(index).get_by_label("Фамилия, имя, отчество (при его наличии)").fill(name)
        rows.nth(index).get_by_label("Предмет").fill(subject)
    page.get_by_label("Недельная учебная нагрузка, часов").fill("10")
    page.get_by_label("Индивидуальный учебный план (реквизиты)").fill("ИУП № 3")
    today = live_server.services.now().date()
    page.get_by_label("Начало обучения на дому").fill(today.isoformat())
    page.get_by_label("Окончание обучения на дому").fill((today + timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Выполнить").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    sign_out(page)
    sign_in(page, "head")
    page.goto(task_url(live_server, case, "issue_admission_order"))
    teachers_fact = fact(page, "Учителя")
    for subject in ("Математика", "Русский язык", "Физика", "История"):
        assert subject in teachers_fact


def _phone(chromium: Browser, live_server: LiveServer) -> Page:
    context = chromium.new_context(base_url=live_server.url, locale="ru-RU", timezone_id="Asia/Almaty",
                                   viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    return context.new_page()


#: The elements that reach past the viewport's right edge (deepest first), to say what overflows.
_WIDE = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > 390.5)
  .filter(e => !Array.from(e.children).some(c => c.getBoundingClientRect().right > 390.5))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
  + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _overflow(phone: Page, path: str | None) -> tuple[str, int, list[str]]:
    if path is not None:
        phone.goto(path)
    width = int(phone.evaluate("document.scrollingElement.scrollWidth"))
    return path or phone.url, width, phone.evaluate(_WIDE) if width > PHONE["width"] else []


def test_every_page_of_the_journeys_fits_a_phone_and_keeps_focus_visible(chromium: Browser,
                                                                        live_server: LiveServer) -> None:
    case = submit_office_case(live_server, "APP-PHONE-1")
    phone = _phone(chromium, live_server)
    widths = [_overflow(phone, "/login")]
    sign_in(phone, "head")
    decide = task_url(live_server, case, "determine_class_and_language")
    widths += [_overflow(phone, path) for path in ("/tasks", decide, f"/cases/{case}", "/cases")]
    phone.goto(decide)
    phone.get_by_label("Класс", exact=True).focus()
    outline = phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")  # focus is visible
    decide_grade(phone, "8", "казахский")
    sign_out(phone)
    sign_in(phone, "specialist")
    widths.append(_overflow(phone, task_url(live_server, case, "organise_home_schooling")))
    sign_out(phone)
    sign_in(phone, "clerk")
    widths += [_overflow(phone, path) for path in ("/intake/application", "/intake/complaint", "/cases")]
    phone.goto("/intake/application")
    phone.get_by_role("button", name="Зарегистрировать").click()  # the page with every error shown
    widths.append(_overflow(phone, None))
    staff_pages = (("admin25", ("/admin/staff", "/operations")),
                   ("analyst", ("/diagrams", "/admin/organisations")), ("legal", ("/legal",)))
    for login, paths in staff_pages:
        sign_out(phone)
        sign_in(phone, login)
        widths += [_overflow(phone, path) for path in paths]
    too_wide = [(path, width, what) for path, width, what in widths if width > PHONE["width"]]
    assert too_wide == []
    phone.context.close()


def test_a_second_extension_over_ten_days_is_a_field_error_with_the_reasons_kept(page: Page,
                                                                                 live_server: LiveServer) -> None:
    services = live_server.services
    clerk, head, reviewer = _client(services), _client(services), _client(services)
    web_sign_in(clerk, "clerk3")
    assert clerk.post("/intake/complaint", data=COMPLAINT).status_code == 302
    web_sign_in(head, "head3")
    [provider_task] = _task_ids(head.get("/tasks?role=appealed_official").data)
    assert head.post(f"/tasks/{provider_task}", data={"decision": "forward"}).status_code == 302
    web_sign_in(reviewer, "reviewer")
    [review] = _task_ids(reviewer.get("/tasks").data)
    assert reviewer.post(f"/tasks/{review}", data={
        "decision": "extend", "extension_days": "5", "reasons": "Запрошены материалы у школы."}).status_code == 302
    [notify] = _task_ids(reviewer.get("/tasks").data)
    assert reviewer.post(f"/tasks/{notify}", data={}).status_code == 302
    [again] = _task_ids(reviewer.get("/tasks").data)

    sign_in(page, "reviewer")
    page.goto(f"/tasks/{again}")
    assert fact(page, "Текст жалобы") == COMPLAINT["text"]
    page.get_by_label("Решение по жалобе").select_option(label="продлить срок рассмотрения жалобы")
    reasons = "Школа не представила дело в срок; повторный запрос направлен."
    page.get_by_label("Мотивы решения (причины продления срока)").fill(reasons)
    days = page.get_by_label("Продлить срок рассмотрения на, рабочих дней")
    days.fill("6")
    page.get_by_role("button", name="Выполнить").click()
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-extension-days-error")).to_contain_text(
        "Срок рассмотрения можно продлить не более чем на десять рабочих дней в сумме")
    expect(page.get_by_label("Мотивы решения (причины продления срока)")).to_have_value(reasons)
    expect(days).to_have_value("6")
