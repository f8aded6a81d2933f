"""One inbox across roles, the case list, search with need to know, and no accidental duplicates at intake.

Issue 13, points 1 and 5: a head who also holds "official whose act is appealed" sees both tasks in
one list; search by case number, IIN or name finds only cases the person's roles work on; the same
intake form sent twice registers one case; a second open case for the same child is shown first.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from service.application.people import create_staff
from service.application.reindex import reindex_people
from service.application.worklist import case_scope, inbox, knows_people, list_cases, working_cutoff
from service.bootstrap import Services
from service.domain.search import fold, parse_query, people_in
from service.persistence.case_index import IndexedCase, case_index_of

from .support import DEPARTMENT, SCHOOL_25, SYSTEM, at, person, registry
from .test_web import CHILD_IIN, INTAKE_FORM, PARENT_IIN, _client, _submit, product, sign_in, web

__all__ = ["product", "web"]

COMPLAINT = {
    "channel": "electronic", "addressee": "local_executive_body", "complainant.full_name": "Жұмабаев Серік",
    "complainant.email": "serik@example.kz", "appealed.subject": "decision",
    "appealed.description": "Отказ в приеме документов", "against_provider": "true",
    "text": "Прошу пересмотреть отказ.", "addressee_bin": DEPARTMENT,
}
TOKEN = "0123456789abcdef0123456789abcdef"


def _complaint_at_school_25(product: Services) -> None:
    """A complaint against school № 25 handed in there: a task for its appealed official (the head)."""
    clerk = _client(product)
    sign_in(clerk, "clerk")
    response = clerk.post("/intake/complaint", data=COMPLAINT)
    assert response.status_code == 302, response.data.decode()[:2000]


def _numbers(html: bytes) -> list[str]:
    return re.findall(r'/cases/\d+">([A-Z]+-[^<]+)</a>', html.decode())


def _rows(html: bytes) -> int:
    return html.decode().count("data-task-id=")


# --- one inbox ------------------------------------------------------------------------------------


def test_a_head_with_two_roles_sees_both_tasks_in_one_list(product: Services, web: FlaskClient) -> None:
    _submit(product)  # APP-1: the head decides on the grade
    _complaint_at_school_25(product)  # the head, as the official whose act is appealed, considers it
    sign_in(web, "head")
    page = web.get("/tasks")
    assert page.status_code == 200
    numbers = _numbers(page.data)
    assert "APP-1" in numbers and any(n.startswith("COMP-") for n in numbers), numbers
    assert _rows(page.data) == 2
    html = page.data.decode()
    assert "Ахметов" not in html or "Ахметов Нұрлан" in html  # the child's name, never half of it
    assert "Ахметов Нұрлан" in html  # the child column
    # one role at a time is still there, as a filter
    only_appealed = web.get("/tasks?role=appealed_official")
    assert [n for n in _numbers(only_appealed.data) if n == "APP-1"] == []
    assert _rows(only_appealed.data) == 1


def test_filters_stage_process_overdue_and_due_within(product: Services, web: FlaskClient) -> None:
    case = _submit(product)
    _complaint_at_school_25(product)
    sign_in(web, "head")
    by_stage = web.get("/tasks?stage=class_and_language")
    assert _numbers(by_stage.data) == ["APP-1"]
    by_process = web.get("/tasks?process=complaint_review")
    assert _rows(by_process.data) == 1 and "APP-1" not in _numbers(by_process.data)
    head = person(product, "head")
    with product.uow(write=False) as uow:
        [task] = [row.task for row in inbox(uow, product.runtime, actor=head, calendar=product.calendar,
                                             now=at("2026-03-20T17:30+05:00")).rows if row.task.instance_id == case]
    assert task.due_at is not None
    start = at("2026-03-20T17:30+05:00")
    days = product.calendar.working_days_left(start, task.due_at)
    assert days >= 1

    def keys(**filters: object) -> list[str]:
        with product.uow(write=False) as uow:
            found = inbox(uow, product.runtime, actor=head, calendar=product.calendar, now=start,
                          **filters)  # type: ignore[arg-type]
        return [row.task.business_key for row in found.rows]

    assert "APP-1" in keys(due_within=days)
    assert "APP-1" not in keys(due_within=days - 1)
    assert "APP-1" not in keys(overdue=True)
    with product.uow(write=False) as uow:
        late = inbox(uow, product.runtime, actor=head, calendar=product.calendar, now=task.due_at + timedelta(days=1),
                     overdue=True)
    assert "APP-1" in [row.task.business_key for row in late.rows]
    assert [row.overdue for row in late.rows if row.task.business_key == "APP-1"] == [True]


def test_the_assignee_is_shown_by_name_not_login(product: Services, web: FlaskClient) -> None:
    _submit(product)
    with product.uow() as uow:  # a second person with the head's role at school № 25
        create_staff(uow, actor=SYSTEM, organisation_id=registry(product)[SCHOOL_25], login="deputy",
                     full_name="Орынбасар Әлия", password="deputy-password-2026", roles=["head"],
                     known_roles=["head"], now=product.now())
    sign_in(web, "head")
    [task_id] = re.findall(r'data-task-id="([0-9a-f-]{36})"', web.get("/tasks").data.decode())
    assert web.post(f"/tasks/{task_id}/claim", data={"next": "/tasks"}).status_code == 302
    deputy = _client(product)
    assert deputy.post("/login", data={"login": "deputy", "password": "deputy-password-2026"}).status_code == 302
    row = deputy.get("/tasks").data.decode().split("<tbody>")[1]
    assert "Сәрсенбаева Гүлнұр Қайратқызы" in row and ">head<" not in row


# --- search and the case list, with need to know --------------------------------------------------


def test_search_by_iin_finds_the_case_for_the_clerk_and_not_for_people_without_the_need(
    product: Services, web: FlaskClient,
) -> None:
    _submit(product)
    sign_in(web, "clerk")
    found = web.get(f"/cases?q={CHILD_IIN}")
    assert found.status_code == 200 and _numbers(found.data) == ["APP-1"]
    assert "Ахметов Нұрлан" in found.data.decode()
    by_parent = web.get(f"/cases?q={PARENT_IIN}")
    assert _numbers(by_parent.data) == ["APP-1"]
    by_name = web.get("/cases?q=ахметов н")
    assert _numbers(by_name.data) == ["APP-1"]
    by_number = web.get("/cases?q=app-1")
    assert _numbers(by_number.data) == ["APP-1"]
    for login in ("reviewer", "clerk112", "head112"):
        stranger = _client(product)
        sign_in(stranger, login)
        page = stranger.get(f"/cases?q={CHILD_IIN}")
        assert page.status_code == 200 and _numbers(page.data) == [], login
        assert "Ахметов Нұрлан" not in page.data.decode()
        tasks = stranger.get(f"/tasks?q={CHILD_IIN}")
        assert _rows(tasks.data) == 0, login


def test_the_inbox_search_keeps_only_the_tasks_of_the_cases_found(product: Services, web: FlaskClient) -> None:
    _submit(product)
    _complaint_at_school_25(product)
    sign_in(web, "head")
    by_iin = web.get(f"/tasks?q={CHILD_IIN}")
    assert _numbers(by_iin.data) == ["APP-1"]
    by_complainant = web.get("/tasks?q=Жұмабаев")
    numbers = _numbers(by_complainant.data)
    assert len(numbers) == 1 and numbers[0].startswith("COMP-")
    nothing = web.get("/tasks?q=Несуществующий")
    assert _rows(nothing.data) == 0 and "Ничего не найдено" in nothing.data.decode()


def test_a_case_with_no_task_for_me_is_reachable_from_the_case_list(product: Services, web: FlaskClient) -> None:
    case = _submit(product)  # the task is the head's: the clerk has none on it
    sign_in(web, "clerk")
    assert _rows(web.get("/tasks").data) == 0
    listed = web.get("/cases")
    assert f'/cases/{case}"' in listed.data.decode() and "Ахметов Нұрлан" in listed.data.decode()
    assert web.get(f"/cases/{case}").status_code == 200


def test_people_are_withheld_where_a_role_does_not_work_on_the_case(product: Services) -> None:
    case = _submit(product)
    admin = person(product, "administrator")
    head = person(product, "head")
    with product.uow(write=False) as uow:
        row = case_index_of(uow).get(case)
    assert row is not None and row.child_iin == CHILD_IIN and row.child_name == "Ахметов Нұрлан"
    assert knows_people(case_scope(product.runtime, head), row)
    assert not knows_people(case_scope(product.runtime, admin), row)
    with product.uow(write=False) as uow:  # an administrator lists only cases that had an incident
        assert list_cases(uow, product.runtime, actor=admin).rows == []
        assert list_cases(uow, product.runtime, actor=admin, search=CHILD_IIN).rows == []


def test_the_case_index_follows_the_case(product: Services) -> None:
    case = _submit(product)
    with product.uow(write=False) as uow:
        row = case_index_of(uow).get(case)
    assert isinstance(row, IndexedCase)
    assert (row.status, row.stage, row.applicant_iin) == ("running", "class_and_language", PARENT_IIN)


def test_what_a_search_means() -> None:
    assert parse_query(CHILD_IIN).iin == CHILD_IIN  # type: ignore[union-attr]
    assert parse_query("app-2026").number == "APP-2026"  # type: ignore[union-attr]
    assert parse_query("  Ёлкина   Анна ").name == "елкина анна"  # type: ignore[union-attr]
    assert parse_query("а") is None and parse_query("") is None
    assert fold("ПЁТР") == "петр"
    assert people_in({"request": {"child": {"full_name": " Ахметов  Нұрлан ", "iin": "12"}}}).child_name \
        == "Ахметов Нұрлан"
    assert people_in({"child": {"iin": "bad"}}).child_iin == ""


def test_due_within_counts_working_days(product: Services) -> None:
    friday = at("2026-03-20T10:00+05:00")
    assert working_cutoff(product.calendar, friday, 0) == at("2026-03-21T00:00+05:00")
    assert working_cutoff(product.calendar, friday, 1) > at("2026-03-23T00:00+05:00")  # the weekend skipped


# --- no accidental duplicates ------------------------------------------------------------------------


def _case_count(product: Services) -> int:
    with product.uow(write=False) as uow:
        return uow.instances.count()


def test_the_same_intake_form_sent_twice_gives_the_same_case_and_receipt(product: Services, web: FlaskClient) -> None:
    sign_in(web, "clerk")
    first = web.post("/intake/application", data={**INTAKE_FORM, "form_token": TOKEN})
    assert first.status_code == 302
    again = web.post("/intake/application", data={**INTAKE_FORM, "form_token": TOKEN})
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert _case_count(product) == 1
    instance_id = int(first.headers["Location"].rsplit("/", 1)[1])
    with product.uow(write=False) as uow:
        receipts = uow.documents.for_instance(instance_id)
    assert receipts  # the receipt printed the first time is the one shown again, not a second one
    assert len(receipts) == len({(d.kind, d.language) for d in receipts})
    page = web.get(again.headers["Location"])
    assert "уже была зарегистрирована" in page.data.decode()


def test_an_open_case_for_the_same_child_is_shown_before_a_new_one(product: Services, web: FlaskClient) -> None:
    sign_in(web, "clerk")
    first = web.post("/intake/application", data={**INTAKE_FORM, "form_token": TOKEN})
    assert first.status_code == 302
    second_form = {**INTAKE_FORM, "form_token": "f" * 32}
    warned = web.post("/intake/application", data=second_form)
    assert warned.status_code == 422
    html = warned.data.decode()
    assert "уже есть открытое дело" in html and f'href="{first.headers["Location"]}"' in html
    assert 'name="register_anyway"' in html and _case_count(product) == 1
    anyway = web.post("/intake/application", data={**second_form, "register_anyway": "1"})
    assert anyway.status_code == 302 and anyway.headers["Location"] != first.headers["Location"]
    assert _case_count(product) == 2


def test_cases_indexed_before_people_were_copied_get_them_from_their_data(product: Services) -> None:
    case = _submit(product)
    with product.uow() as uow:  # as migration 0014 leaves a case it found: number and state, no people
        case_index_of(uow).change(case, people=people_in({}))
        uow.commit()
    with product.uow(write=False) as uow:
        assert list_cases(uow, product.runtime, actor=person(product, "office_clerk"), search=CHILD_IIN).rows == []
    assert reindex_people(product.write_uow, product.runtime) == 1
    with product.uow(write=False) as uow:
        found = list_cases(uow, product.runtime, actor=person(product, "office_clerk"), search=CHILD_IIN).rows
    assert [row.instance_id for row in found] == [case] and found[0].child_name == "Ахметов Нұрлан"
    assert reindex_people(product.write_uow, product.runtime) == 0  # nothing left to fill
