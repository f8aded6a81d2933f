"""Need to know: who may see and do what, through the application services and over HTTP.

Each check in ``service/application/access.py`` (and the use cases that call it) has a test here
that fails when the check is removed: the wrong organisation is answered "not found", the wrong
role "not permitted", and nothing of the refused attempt is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.application.attachments import attach, case_attachments, open_attachment
from service.application.cases import claim_task, complete_task, deliver_message, record_court_appeal, release_task
from service.application.demo import ensure_demo_accounts
from service.application.documents import document_pdf, readable_document
from service.application.intake import start_owners
from service.application.organisations import import_registry
from service.application.people import create_staff, deactivate_staff, set_roles
from service.application.process_access import known_roles
from service.application.queries import case_progress, case_view, list_tasks, task_context
from service.bootstrap import Services
from service.domain.errors import NotFound, NotPermitted
from service.domain.identity import make_iin
from service.domain.staff import Actor
from service.web import create_app

from .support import DEPARTMENT, SCHOOL_25, SCHOOL_112, SYSTEM, at, owners, person, registry, shipped_services

NOW = at("2026-03-20T11:00+05:00")
CHILD_IIN = make_iin(date(2015, 4, 2), "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)
PDF = b"%PDF-1.4\n% a scan\n"


def application(number: str, bin_: str) -> dict[str, Any]:
    """A complete office application to the school with ``bin_``."""
    return {
        "application_number": number, "channel": "office", "received_at": NOW.isoformat(), "provider_bin": bin_,
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion", "identity_document"],
    }


def submit(product: Services, number: str, bin_: str) -> int:
    """Register an application at a school, with its VKK scan; returns the case id."""
    with product.uow() as uow:
        attach(uow, actor=SYSTEM, business_key=number, kind="vkk_conclusion", filename="vkk.pdf", content=PDF,
               now=NOW, max_bytes=10_000)
        receipt = deliver_message(uow, product.runtime, actor=SYSTEM, name="service_requested", business_key=number,
                                  payload=application(number, bin_), owners=owners(product, bin_), now=NOW)
    assert receipt.instance_id is not None
    return receipt.instance_id


def complaint_to_department(product: Services, about: str) -> int:
    """A complaint addressed to the district education department about school № 25's case ``about``."""
    payload: dict[str, Any] = {
        "complaint_number": "COMP-1", "channel": "paper", "addressee": "local_executive_body",
        "registered_at": NOW.isoformat(), "provider_bin": SCHOOL_25, "addressee_bin": DEPARTMENT,
        "complainant": {"full_name": "Ахметова Айгүл Серікқызы", "iin": PARENT_IIN, "address": "Алматы"},
        "appealed": {"subject": "decision", "description": "Бас тарту", "service_case": about},
        "against_provider": False, "text": "Шешімді қайта қарауды сұраймын.",
    }
    with product.uow() as uow:
        case_owners = start_owners(uow, form="complaint_review/complaint_filed", payload=payload, registered_at=None)
        receipt = deliver_message(uow, product.runtime, actor=SYSTEM, name="complaint_filed", business_key="COMP-1",
                                  payload=payload, owners=case_owners, now=NOW)
    assert receipt.instance_id is not None
    return receipt.instance_id


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    services = shipped_services(tmp_path, database_url)
    yield services
    services.database.dispose()


@pytest.fixture
def cases(product: Services) -> dict[str, int]:
    return {"25": submit(product, "APP-25", SCHOOL_25), "112": submit(product, "APP-112", SCHOOL_112)}


def head_task(product: Services, case: int) -> str:
    with product.uow(write=False) as uow:
        [task] = case_view(uow, product.runtime, actor=SYSTEM, instance_id=case).open_tasks
    assert task.lane == "head"
    return task.task_id


# --- the task list ------------------------------------------------------------------------------


def test_the_task_list_shows_my_roles_in_my_organisation_only(product: Services, cases: dict[str, int]) -> None:
    with product.uow(write=False) as uow:
        def keys(actor: Actor) -> list[str]:
            return [t.business_key for t in list_tasks(uow, product.runtime, actor=actor).items]

        assert keys(person(product, "head", bin_=SCHOOL_25)) == ["APP-25"]
        assert keys(person(product, "head", bin_=SCHOOL_112)) == ["APP-112"]
        assert keys(person(product, "specialist", bin_=SCHOOL_25)) == []  # not the specialist's turn yet
        assert keys(person(product, "head", bin_=DEPARTMENT)) == []


# --- tasks: complete, claim, release ------------------------------------------------------------

GRADE = {"grade": 4, "language": "kk"}


@pytest.mark.parametrize("who, refused", [("head@112", NotFound), ("specialist@25", NotPermitted)])
def test_completing_another_schools_or_another_roles_task_is_refused(
    product: Services, cases: dict[str, int], who: str, refused: type[Exception],
) -> None:
    role, school = who.split("@")
    actor = person(product, role, bin_=SCHOOL_25 if school == "25" else SCHOOL_112)
    task = head_task(product, cases["25"])
    with product.uow() as uow, pytest.raises(refused):
        complete_task(uow, product.runtime, actor=actor, task_id=task, data=GRADE, now=NOW)
    assert head_task(product, cases["25"]) == task  # nothing was saved
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=person(product, "head"), task_id=task, data=GRADE, now=NOW)


@pytest.mark.parametrize("who, refused", [("head@112", NotFound), ("specialist@25", NotPermitted)])
def test_claiming_another_schools_or_another_roles_task_is_refused(
    product: Services, cases: dict[str, int], who: str, refused: type[Exception],
) -> None:
    role, school = who.split("@")
    actor = person(product, role, bin_=SCHOOL_25 if school == "25" else SCHOOL_112)
    task = head_task(product, cases["25"])
    with product.uow() as uow, pytest.raises(refused):
        claim_task(uow, actor=actor, task_id=task, now=NOW)
    with product.uow(write=False) as uow:
        assert uow.tasks.get(task).assignee is None


def test_releasing_is_refused_outside_ones_organisation(product: Services, cases: dict[str, int]) -> None:
    task = head_task(product, cases["25"])
    head = person(product, "head", login="head-25")
    with product.uow() as uow:
        claim_task(uow, actor=head, task_id=task, now=NOW)
    impostor = person(product, "head", bin_=SCHOOL_112, login="head-25")  # same login, other school
    with product.uow() as uow, pytest.raises(NotFound):
        release_task(uow, actor=impostor, task_id=task, now=NOW)
    with product.uow(write=False) as uow:
        assert uow.tasks.get(task).assignee == "head-25"


def test_a_claimed_task_is_completed_only_by_who_claimed_it(product: Services, cases: dict[str, int]) -> None:
    task = head_task(product, cases["25"])
    with product.uow() as uow:
        claim_task(uow, actor=person(product, "head", login="first"), task_id=task, now=NOW)
    with product.uow() as uow, pytest.raises(NotPermitted):
        complete_task(uow, product.runtime, actor=person(product, "head", login="second"), task_id=task, data=GRADE,
                      now=NOW)


# --- reading cases, documents and scans -----------------------------------------------------------


def test_another_schools_case_is_not_found_by_every_read(product: Services, cases: dict[str, int]) -> None:
    stranger = person(product, "head", "office_clerk", "specialist", bin_=SCHOOL_112)
    case, task = cases["25"], head_task(product, cases["25"])
    with product.uow(write=False) as uow:
        document = uow.documents.for_instance(case)[0].id
        for read in (
            lambda: case_view(uow, product.runtime, actor=stranger, instance_id=case),
            lambda: case_progress(uow, product.runtime, actor=stranger, instance_id=case, now=NOW),
            lambda: task_context(uow, product.runtime, actor=stranger, task_id=task),
            lambda: readable_document(uow, product.runtime, actor=stranger, document_id=document),
        ):
            with pytest.raises(NotFound):
                read()
        own = person(product, "head", bin_=SCHOOL_25)
        assert case_view(uow, product.runtime, actor=own, instance_id=case).business_key == "APP-25"
    with pytest.raises(NotFound):
        document_pdf(product.uow, product.runtime, product.signer, actor=stranger, document_id=document)


def test_roles_of_other_processes_do_not_open_a_service_case(product: Services, cases: dict[str, int]) -> None:
    """A complaint registrar or an administrator of the school has no task in the service: no access."""
    for role in ("complaint_registrar", "administrator", "analyst"):
        with product.uow(write=False) as uow, pytest.raises(NotFound):
            case_view(uow, product.runtime, actor=person(product, role), instance_id=cases["25"])


def test_medical_scan_only_for_roles_that_need_it_and_every_read_is_logged(
    product: Services, cases: dict[str, int],
) -> None:
    head = person(product, "head", login="head-25")
    with product.uow(write=False) as uow:
        case = uow.instances.get(cases["25"])
        [scan] = case_attachments(uow, product.runtime, actor=head, case=case)
    with product.uow() as uow:
        info, content = open_attachment(uow, product.runtime, actor=head, attachment_id=scan.id, now=NOW)
    assert content == PDF
    with product.uow(write=False) as uow:
        logged = [e for e in uow.events.for_instance(cases["25"]) if e.action == "restricted_document_downloaded"]
    assert [(e.actor, e.details["why"]) for e in logged] == [("head-25", "role: head")]
    stranger = person(product, "head", bin_=SCHOOL_112)
    with product.uow() as uow, pytest.raises(NotFound):
        open_attachment(uow, product.runtime, actor=stranger, attachment_id=scan.id, now=NOW)


def test_a_reviewing_body_reads_the_case_forwarded_with_a_complaint_but_not_the_medical_data(
    product: Services, cases: dict[str, int],
) -> None:
    reviewer = person(product, "reviewing_official", bin_=DEPARTMENT)
    with product.uow(write=False) as uow, pytest.raises(NotFound):
        case_view(uow, product.runtime, actor=reviewer, instance_id=cases["25"])  # no complaint yet
    complaint_to_department(product, about="APP-25")
    with product.uow(write=False) as uow:
        assert case_view(uow, product.runtime, actor=reviewer, instance_id=cases["25"]).business_key == "APP-25"
        progress = case_progress(uow, product.runtime, actor=reviewer, instance_id=cases["25"], now=NOW)
        assert progress.data["request"]["vkk_conclusion"] == "—"
        assert progress.data["request"]["child"]["full_name"] == "Ахметов Нұрлан"
        case = uow.instances.get(cases["25"])
        assert case_attachments(uow, product.runtime, actor=reviewer, case=case) == []
        [scan] = uow.attachments.for_key("APP-25")
        with pytest.raises(NotFound):
            case_view(uow, product.runtime, actor=reviewer, instance_id=cases["112"])  # nothing else of schools
    with product.uow() as uow, pytest.raises(NotFound):
        open_attachment(uow, product.runtime, actor=reviewer, attachment_id=scan.id, now=NOW)
    head = person(product, "head")
    with product.uow(write=False) as uow:
        data = case_progress(uow, product.runtime, actor=head, instance_id=cases["25"], now=NOW).data
    assert data["request"]["vkk_conclusion"]["number"] == "ВКК-17"


def test_the_complaint_is_reviewed_by_the_body_it_is_addressed_to(product: Services, cases: dict[str, int]) -> None:
    complaint = complaint_to_department(product, about="APP-25")
    with product.uow(write=False) as uow:
        def keys(actor: Actor) -> list[str]:
            return [t.business_key for t in list_tasks(uow, product.runtime, actor=actor).items]

        assert keys(person(product, "reviewing_official", bin_=DEPARTMENT)) == ["COMP-1"]
        assert keys(person(product, "reviewing_official", bin_=SCHOOL_25)) == []
        with pytest.raises(NotFound):  # the school does not read the department's complaint
            case_view(uow, product.runtime, actor=person(product, "head", "reviewing_official"), instance_id=complaint)


# --- §10 court appeals ----------------------------------------------------------------------------


def test_court_appeals_are_recorded_by_the_owning_organisations_officials(product: Services,
                                                                          cases: dict[str, int]) -> None:
    args = {"instance_id": cases["25"], "court": "Алматы қаласының мамандандырылған ауданаралық әкімшілік соты",
            "filed_on": "2026-03-19", "now": NOW}
    with product.uow() as uow, pytest.raises(NotPermitted):
        record_court_appeal(uow, product.runtime, actor=person(product, "specialist"), **args)
    with product.uow() as uow, pytest.raises(NotFound):
        record_court_appeal(uow, product.runtime, actor=person(product, "head", bin_=SCHOOL_112), **args)
    with product.uow() as uow:
        record_court_appeal(uow, product.runtime, actor=person(product, "head"), **args)
    with product.uow(write=False) as uow:
        assert [e.action for e in uow.events.for_instance(cases["25"])].count("court_appeal_recorded") == 1


# --- staff administration and the registry -----------------------------------------------------------


def test_only_the_organisations_administrator_manages_its_staff(product: Services) -> None:
    ids = registry(product)
    roles = known_roles(product.engine.library.diagrams())
    new = {"login": "new-clerk", "full_name": "Жаңа Қызметкер", "password": "a-long-password-2026",
           "roles": ["office_clerk"], "known_roles": roles, "now": NOW}
    for outsider in (person(product, "head"), person(product, "administrator", bin_=SCHOOL_112)):
        with product.uow() as uow, pytest.raises(NotPermitted):
            create_staff(uow, actor=outsider, organisation_id=ids[SCHOOL_25], **new)
    admin = person(product, "administrator")
    with product.uow() as uow:
        staff_id = create_staff(uow, actor=admin, organisation_id=ids[SCHOOL_25], **new)
    with product.uow() as uow, pytest.raises(NotPermitted):
        set_roles(uow, actor=person(product, "administrator", bin_=SCHOOL_112), organisation_id=ids[SCHOOL_25],
                  staff_id=staff_id, roles=["head"], known_roles=roles, now=NOW)
    with product.uow() as uow, pytest.raises(NotPermitted):
        deactivate_staff(uow, actor=person(product, "head"), organisation_id=ids[SCHOOL_25], staff_id=staff_id,
                         now=NOW)
    with product.uow(write=False) as uow:
        member = uow.staff.get(staff_id)
    assert member is not None and member.roles_in(ids[SCHOOL_25]) == {"office_clerk"}


def test_only_a_national_administrator_imports_the_registry(product: Services) -> None:
    content = Path(__file__).parent.parent.joinpath("config", "demo-organisations.csv").read_bytes()
    with product.uow() as uow, pytest.raises(NotPermitted):
        import_registry(uow, actor=person(product, "administrator", "analyst"), content=content, now=NOW)
    national = Actor(login="nat", full_name="Nat", national_admin=True)
    with product.uow() as uow:
        report = import_registry(uow, actor=national, content=content, now=NOW)
    assert (report.added, report.updated) == (0, 0)


# --- over HTTP ----------------------------------------------------------------------------------------


@pytest.fixture
def web(product: Services) -> FlaskClient:
    with product.uow() as uow:
        ensure_demo_accounts(uow, NOW)
    app = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


def sign_in(client: FlaskClient, login: str) -> None:
    response = client.post("/login", data={"login": login, "password": f"{login}-demo-2026"})
    assert response.status_code == 302, response.data


def test_over_http_another_schools_case_document_scan_and_task_answer_404(
    product: Services, cases: dict[str, int], web: FlaskClient,
) -> None:
    with product.uow(write=False) as uow:
        document = uow.documents.for_instance(cases["25"])[0].id
        [scan] = uow.attachments.for_key("APP-25")
    task = head_task(product, cases["25"])
    pages = [f"/cases/{cases['25']}", f"/documents/{document}", f"/documents/{document}.pdf",
             f"/attachments/{scan.id}", f"/tasks/{task}"]
    sign_in(web, "head112")
    assert [web.get(page).status_code for page in pages] == [404] * len(pages)
    assert web.post(f"/tasks/{task}", data={"grade": "4", "language": "kk"}).status_code == 404
    assert web.post(f"/tasks/{task}/claim", data={}).status_code == 404
    assert b"APP-25" not in web.get("/tasks").data
    web.post("/logout")
    sign_in(web, "head")
    assert [web.get(page).status_code for page in pages] == [200] * len(pages)


def test_over_http_another_roles_task_answers_403(product: Services, cases: dict[str, int], web: FlaskClient) -> None:
    task = head_task(product, cases["25"])
    sign_in(web, "specialist")
    assert web.get(f"/tasks/{task}").status_code == 403
    assert web.post(f"/tasks/{task}", data={"grade": "4", "language": "kk"}).status_code == 403
    assert head_task(product, cases["25"]) == task


def test_over_http_the_clerk_registers_for_her_own_school_only(product: Services, web: FlaskClient) -> None:
    ids = registry(product)
    sign_in(web, "clerk")
    assert web.get(f"/intake/application?organisation={ids[SCHOOL_112]}").status_code == 403
    assert web.get("/intake/application").status_code == 200
    web.post("/logout")
    sign_in(web, "specialist")
    assert web.get("/intake/application").status_code == 403


# --- sessions end on the server -------------------------------------------------------------------------


def test_a_cookie_replayed_after_sign_out_is_signed_out(web: FlaskClient) -> None:
    sign_in(web, "clerk")
    copied = web.get_cookie("homeschool_session")
    assert copied is not None and web.get("/tasks").status_code == 200
    web.post("/logout")
    web.set_cookie("homeschool_session", copied.value, domain=copied.domain)
    response = web.get("/tasks")
    assert response.status_code == 302 and "/login" in response.location


def test_deactivation_ends_that_persons_sessions_at_once(product: Services, web: FlaskClient) -> None:
    sign_in(web, "clerk")
    assert web.get("/tasks").status_code == 200
    ids = registry(product)
    with product.uow() as uow:
        clerk = uow.staff.by_login("clerk")
        assert clerk is not None and clerk[0].id is not None
        deactivate_staff(uow, actor=person(product, "administrator"), organisation_id=ids[SCHOOL_25],
                         staff_id=clerk[0].id, now=NOW)
    response = web.get("/tasks")
    assert response.status_code == 302 and "/login" in response.location
    assert web.post("/login", data={"login": "clerk", "password": "clerk-demo-2026"}).status_code == 401


# --- sign-in: one answer, and a limit parallel guesses cannot pass --------------------------------------


def test_parallel_wrong_passwords_check_at_most_five(product: Services, web: FlaskClient, monkeypatch) -> None:
    import threading

    from service.application import staff as staff_module
    from service.application.staff import SignInFailed, sign_in
    from service.domain.errors import ConcurrencyConflict

    real_verify, checked = staff_module._verify, []
    dummy = staff_module._DUMMY_HASH

    def counting(password_hash: str, password: str) -> bool:
        if password_hash != dummy:
            checked.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(staff_module, "_verify", counting)
    barrier, outcomes = threading.Barrier(24), []

    def guess(n: int) -> None:
        barrier.wait()
        try:
            with product.uow() as uow:
                sign_in(uow, login="head", password=f"guess-{n}-wrong", now=NOW)
        except (SignInFailed, ConcurrencyConflict) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 24 and 1 <= len(checked) <= 5, (checked, outcomes)
    with product.uow() as uow, pytest.raises(SignInFailed):  # locked now, even with the right password
        sign_in(uow, login="head", password="head-demo-2026", now=NOW)
    assert len(checked) <= 5


def test_the_same_answer_for_an_unknown_login_a_wrong_password_and_a_locked_account(web: FlaskClient) -> None:
    answers = set()
    for _ in range(6):
        response = web.post("/login", data={"login": "head", "password": "wrong-password-2026"})
        answers.add((response.status_code, response.data.count(b"field-error"), _error(response.data)))
    unknown = web.post("/login", data={"login": "nobody-here", "password": "wrong-password-2026"})
    answers.add((unknown.status_code, unknown.data.count(b"field-error"), _error(unknown.data)))
    locked = web.post("/login", data={"login": "head", "password": "head-demo-2026"})
    answers.add((locked.status_code, locked.data.count(b"field-error"), _error(locked.data)))
    assert len(answers) == 1 and next(iter(answers))[0] == 401


def _error(html: bytes) -> str:
    import re

    found = re.search(rb'role="alert"[^>]*>(.*?)<', html, re.S)
    return found.group(1).decode().strip() if found else ""


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_claim_release_and_language_forms_go_back_only_to_our_own_pages(
    product: Services, cases: dict[str, int], web: FlaskClient, target: str,
) -> None:
    task = head_task(product, cases["25"])
    sign_in(web, "head")
    for path in (f"/tasks/{task}/claim", f"/tasks/{task}/release", "/language"):
        response = web.post(path, data={"next": target, "lang": "kk"})
        assert response.status_code == 302 and response.location.endswith("/tasks"), (path, response.location)
    assert web.post(f"/tasks/{task}/claim", data={"next": "/cases/1"}).location.endswith("/cases/1")


def test_pages_with_personal_data_are_not_stored_by_browsers(product: Services, cases: dict[str, int],
                                                             web: FlaskClient) -> None:
    sign_in(web, "head")
    for path in ("/tasks", f"/cases/{cases['25']}", f"/tasks/{head_task(product, cases['25'])}"):
        assert web.get(path).headers["Cache-Control"] == "no-store"


# --- administration in the web app ----------------------------------------------------------------------


def test_the_administrator_adds_grants_withdraws_and_deactivates_in_the_web_app(
    product: Services, web: FlaskClient,
) -> None:
    ids = registry(product)
    sign_in(web, "admin25")
    page = web.get("/admin/staff")
    assert page.status_code == 200 and "Сәрсенова Әсел Нұрланқызы".encode() in page.data
    assert b"clerk112" not in page.data  # another school's staff are not listed
    added = web.post("/admin/staff", data={"login": "newclerk", "full_name": "Жаңа Қызметкер",
                                           "password": "new-clerk-pass-2026", "roles": ["office_clerk"]})
    assert added.status_code == 302
    with product.uow(write=False) as uow:
        found = uow.staff.by_login("newclerk")
    assert found is not None and found[0].roles_in(ids[SCHOOL_25]) == {"office_clerk"}
    staff_id = found[0].id
    web.post(f"/admin/staff/{staff_id}/roles", data={"roles": ["office_clerk", "complaint_registrar"],
                                                     "position_ru": "Секретарь"})
    with product.uow(write=False) as uow:
        member = uow.staff.get(staff_id)
    assert member is not None and member.roles_in(ids[SCHOOL_25]) == {"office_clerk", "complaint_registrar"}
    assert member.memberships[0].position_ru == "Секретарь"
    web.post(f"/admin/staff/{staff_id}/deactivate")
    with product.uow(write=False) as uow:
        assert uow.staff.get(staff_id) is None  # inactive accounts do not load
    # Another school's administrator page and members are refused.
    assert web.get(f"/admin/staff?organisation={ids[SCHOOL_112]}").status_code == 403
    with product.uow(write=False) as uow:
        other = uow.staff.by_login("clerk112")
    assert other is not None
    assert web.post(f"/admin/staff/{other[0].id}/deactivate?organisation={ids[SCHOOL_112]}").status_code == 403
    assert web.post(f"/admin/staff/{other[0].id}/deactivate").status_code == 404  # not a member here
    with product.uow(write=False) as uow:
        assert uow.staff.get(other[0].id) is not None


def test_staff_pages_are_for_administrators_and_the_registry_for_national_administrators(
    product: Services, web: FlaskClient,
) -> None:
    sign_in(web, "head")
    assert web.get("/admin/staff").status_code == 403
    assert web.get("/admin/organisations").status_code == 403
    web.post("/logout")
    sign_in(web, "analyst")
    page = web.get("/admin/organisations?search=Кокшетау")
    assert page.status_code == 200 and b"030840001150" in page.data and b"050140004113" not in page.data
    bad = b"bin,kind\n123,school\n"
    refused = web.post("/admin/organisations", data={"registry": (__import__("io").BytesIO(bad), "r.csv")},
                       content_type="multipart/form-data")
    assert refused.status_code == 422 and b"line 1" in refused.data
    with product.uow(write=False) as uow:
        assert uow.organisations.count() == 6


def test_a_complaint_filed_with_the_school_for_the_akimat_goes_to_the_akimat(
    product: Services, cases: dict[str, int], web: FlaskClient,
) -> None:
    """§9 through the provider: the school registers it and keeps sight of it; the akimat reviews it."""
    sign_in(web, "clerk")
    response = web.post("/intake/complaint", data={
        "channel": "paper", "addressee": "local_executive_body", "addressee_bin": "050140005508",
        "complainant.full_name": "Ахметова Айгүл", "complainant.address": "Алматы, Абай даңғ., 1",
        "appealed.subject": "decision", "appealed.description": "Отказ", "appealed.service_case": "APP-25",
        "against_provider": "true", "text": "Прошу пересмотреть отказ.",
    })
    assert response.status_code == 302, response.data.decode()[:3000]
    page = web.get(response.headers["Location"])
    assert page.status_code == 200 and 'data-kind="complaint_acknowledgement"' in page.data.decode()
    with product.uow(write=False) as uow:
        ids = registry(product)
        tasks = list_tasks(uow, product.runtime, actor=SYSTEM, process_id="complaint_review").items
    assert [(t.lane, t.organisation_id) for t in tasks] == [("appealed_official", ids[SCHOOL_25])]
    case_id = tasks[0].instance_id
    with product.uow(write=False) as uow:
        case = uow.instances.get(case_id)
    assert case is not None and case.organisation_id == registry(product)["050140005508"]
    assert case.appealed_organisation_id == ids[SCHOOL_25] and case.related_instance_id == cases["25"]


# --- rate limits ------------------------------------------------------------------------------------------


def test_sign_in_attempts_are_limited_per_address(product: Services) -> None:
    import dataclasses

    settings = dataclasses.replace(product.settings, sign_in_rate_limit="3 per minute")
    client = create_app(settings, product, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    answers = [client.post("/login", data={"login": "nobody", "password": "x" * 12}).status_code for _ in range(5)]
    assert answers == [401, 401, 401, 429, 429]
    assert client.get("/login").status_code == 200  # reading the form is not an attempt
    other = client.post("/login", data={"login": "nobody", "password": "x" * 12},
                        environ_base={"REMOTE_ADDR": "10.0.0.9", "wsgi.url_scheme": "https"})
    assert other.status_code == 401  # another address has its own count


def test_api_calls_are_limited_per_token(product: Services) -> None:
    import dataclasses

    from service.application.staff import register_api_client

    settings = dataclasses.replace(product.settings, api_rate_limit="2 per minute")
    client = create_app(settings, product, TESTING=True).test_client()
    with product.uow() as uow:
        first = register_api_client(uow, name="portal", scopes=["cases:read"], now=NOW)
    with product.uow() as uow:
        second = register_api_client(uow, name="other", scopes=["cases:read"], now=NOW)

    def ask(token: str) -> int:
        return client.get("/api/v1/cases/APP-404", headers={"Authorization": f"Bearer {token}"}).status_code

    assert [ask(first) for _ in range(3)] == [404, 404, 429]
    limited = client.get("/api/v1/cases/APP-404", headers={"Authorization": f"Bearer {first}"})
    assert limited.get_json()["error"]["code"] == "rate_limited" and limited.headers.get("Retry-After")
    assert ask(second) == 404


# --- an API client bound to one organisation ---------------------------------------------------------------


def test_an_api_client_bound_to_a_school_sees_and_submits_only_for_it(
    product: Services, cases: dict[str, int],
) -> None:
    from service.application.staff import register_api_client

    ids = registry(product)
    with product.uow() as uow:
        token = register_api_client(uow, name="school-112-system", scopes=["cases:read", "applications:submit"],
                                    now=NOW, organisation_id=ids[SCHOOL_112])
    with product.uow() as uow:
        national = register_api_client(uow, name="portal", scopes=["cases:read"], now=NOW)
    client = create_app(product.settings, product, TESTING=True).test_client()

    def get(number: str, bearer: str) -> int:
        return client.get(f"/api/v1/cases/{number}", headers={"Authorization": f"Bearer {bearer}"}).status_code

    assert (get("APP-112", token), get("APP-25", token)) == (200, 404)
    assert (get("APP-112", national), get("APP-25", national)) == (200, 200)
    body = {**application("ignored", SCHOOL_25), "channel": "portal"}
    for key in ("application_number", "channel", "received_at"):
        body.pop(key)
    body["documents"] = ["application", "vkk_conclusion"]
    refused = client.post("/api/v1/applications", json=body,
                          headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-1"})
    assert refused.status_code == 403, refused.get_json()
    body["provider_bin"] = SCHOOL_112
    accepted = client.post("/api/v1/applications", json=body,
                           headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-2"})
    assert accepted.status_code == 201, accepted.get_json()
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 3  # the two fixtures' cases and the accepted one


def test_a_person_with_several_roles_gets_one_list_merged_oldest_first(product: Services) -> None:
    first, second = submit(product, "APP-A", SCHOOL_25), submit(product, "APP-B", SCHOOL_25)
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=person(product, "head"), task_id=head_task(product, first),
                      data=GRADE, now=at("2026-03-20T12:00+05:00"))  # APP-A moves on to the specialist
    submit(product, "APP-C", SCHOOL_112)
    both = person(product, "head", "specialist")
    with product.uow(write=False) as uow:
        pages = [list_tasks(uow, product.runtime, actor=both, page=n, per_page=1) for n in (1, 2, 3)]
        only_head = list_tasks(uow, product.runtime, actor=both, role="head")
    seen = [(t.business_key, t.lane) for page in pages for t in page.items]
    assert seen == [("APP-B", "head"), ("APP-A", "specialist")]  # B's task is older than A's new one
    assert [p.total for p in pages] == [2, 2, 2]
    assert [(t.business_key, t.lane) for t in only_head.items] == [("APP-B", "head")] and second


def test_attempts_that_never_report_back_lock_the_account_only_for_the_lockout(
    product: Services, web: FlaskClient,
) -> None:
    """A crash between the reservation and the outcome must not leave an account locked for good."""
    from datetime import timedelta

    from service.application.staff import LOCKOUT, MAX_FAILED_SIGN_INS, SignInFailed, sign_in

    with product.uow() as uow:
        head = uow.staff.by_login("head")
        assert head is not None and head[0].id is not None
        for _ in range(MAX_FAILED_SIGN_INS):  # five attempts reserved, none of them ever recorded
            assert uow.staff.reserve_attempt(head[0].id, MAX_FAILED_SIGN_INS, NOW, NOW + LOCKOUT)
        assert not uow.staff.reserve_attempt(head[0].id, MAX_FAILED_SIGN_INS, NOW, NOW + LOCKOUT)
        uow.commit()
    with product.uow() as uow, pytest.raises(SignInFailed):
        sign_in(uow, login="head", password="head-demo-2026", now=NOW + LOCKOUT - timedelta(seconds=1))
    with product.uow() as uow:
        assert sign_in(uow, login="head", password="head-demo-2026", now=NOW + LOCKOUT).login == "head"
