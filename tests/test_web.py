"""The staff web app through Flask's test client: sign-in, roles, CSRF, forms, errors, headers."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from service.application.cases import deliver_message
from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from service.application.queries import case_view
from service.bootstrap import Services
from service.domain.identity import make_iin
from service.web import create_app

from .support import DEPARTMENT, SCHOOL_25, SYSTEM, at, owners, shipped_services

CHILD_IIN = make_iin(date(2015, 4, 2), "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)
PASSWORDS = {account.login: account.password for account in DEMO_ACCOUNTS}


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product as shipped, on the test database, with the demo registry and the demo accounts."""
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    yield services
    services.database.dispose()


def _client(product: Services, csrf: bool = False) -> FlaskClient:
    app = create_app(product.settings, product, WTF_CSRF_ENABLED=csrf, TESTING=True)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # the session cookie is Secure
    return client


@pytest.fixture
def web(product: Services) -> FlaskClient:
    """A browser-like client with CSRF checks off (CSRF itself is tested separately)."""
    return _client(product)


def sign_in(client: FlaskClient, login: str) -> None:
    response = client.post("/login", data={"login": login, "password": PASSWORDS[login]})
    assert response.status_code == 302, response.data


def _application(number: str = "APP-1", channel: str = "office") -> dict[str, Any]:
    return {
        "application_number": number, "channel": channel, "received_at": "2026-03-20T17:00:00+05:00",
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion"] + (["identity_document"] if channel == "office" else []),
        "provider_bin": SCHOOL_25,
    }


def _submit(product: Services, **kw: Any) -> int:
    """An application to school № 25 (where the demo clerk, head and specialist work)."""
    belongs_to = owners(product, SCHOOL_25)
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, actor=SYSTEM, name="service_requested",
                                  business_key=kw.get("number", "APP-1"), payload=_application(**kw),
                                  owners=belongs_to, now=at("2026-03-20T17:00+05:00"))
    assert receipt.instance_id is not None
    return receipt.instance_id


def _task_ids(html: bytes) -> list[str]:
    return re.findall(r'/tasks/([0-9a-f-]{36})"', html.decode())


INTAKE_FORM = {
    "applicant.full_name": "Ахметова Айгүл", "applicant.iin": PARENT_IIN, "applicant.relation": "parent",
    "child.full_name": "<script>alert(1)</script>", "child.iin": CHILD_IIN, "child.birth_date": "2015-04-02",
    "vkk_conclusion.number": "ВКК-17", "vkk_conclusion.issued_on": "2026-03-01",
    "vkk_conclusion.valid_until": "2027-03-01", "vkk_conclusion.recommends_home_schooling": "true",
    "documents[]": ["application", "vkk_conclusion", "identity_document"],
}


def test_signed_out_people_are_sent_to_sign_in(web: FlaskClient) -> None:
    response = web.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_wrong_password_then_lockout_after_five_failures(web: FlaskClient) -> None:
    for _ in range(5):
        wrong = web.post("/login", data={"login": "clerk", "password": "nope-nope-nope"})
        assert wrong.status_code == 401 and "Неверный логин или пароль".encode() in wrong.data
    # even the right password is refused while the account is locked (with the same answer as a wrong one)
    locked = web.post("/login", data={"login": "clerk", "password": PASSWORDS["clerk"]})
    assert locked.status_code == 401 and "слишком много попыток".encode() in locked.data
    assert web.get("/tasks").status_code == 302  # still signed out
    # another account is not locked by the clerk's failures
    assert web.post("/login", data={"login": "head", "password": PASSWORDS["head"]}).status_code == 302


def test_session_cookie_is_secure_http_only_and_headers_are_set(web: FlaskClient) -> None:
    response = web.post("/login", data={"login": "clerk", "password": PASSWORDS["clerk"]})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = web.get("/tasks")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"


def test_forms_without_a_csrf_token_are_refused(product: Services) -> None:
    client = _client(product, csrf=True)
    response = client.post("/login", data={"login": "clerk", "password": PASSWORDS["clerk"]})
    assert response.status_code == 400
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.data.decode()).group(1)
    ok = client.post("/login", data={"login": "clerk", "password": PASSWORDS["clerk"], "csrf_token": token})
    assert ok.status_code == 302


def test_office_intake_prints_the_receipt_and_escapes_what_was_typed(web: FlaskClient) -> None:
    sign_in(web, "clerk")
    response = web.post("/intake/application", data=INTAKE_FORM)
    assert response.status_code == 302
    case_page = web.get(response.headers["Location"])
    html = case_page.data.decode()
    assert case_page.status_code == 200
    assert 'data-kind="receipt"' in html and "<svg" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_a_parent_without_a_vkk_conclusion_is_registered_and_the_refusal_waits_for_the_clerk(web: FlaskClient) -> None:
    sign_in(web, "clerk")
    without = {key: value for key, value in INTAKE_FORM.items() if not key.startswith("vkk_conclusion.")}
    without["documents[]"] = ["application", "identity_document"]
    without["vkk_conclusion.recommends_home_schooling"] = ""  # an unticked box, as a browser leaves it
    response = web.post("/intake/application", data=without)
    assert response.status_code == 302, response.data.decode()[:2000]
    html = web.get(response.headers["Location"]).data.decode()
    assert 'data-kind="refusal"' not in html  # nothing is refused until a person confirms it
    task = re.search(r'href="/tasks/([0-9a-f-]{36})"', html)
    assert task is not None, "the clerk's confirmation task is linked from the case"
    page = web.get(f"/tasks/{task.group(1)}").data.decode()
    assert "Не представлен документ: заключение ВКК." in page
    web.post(f"/tasks/{task.group(1)}", data={"decision": "refuse"})
    after = web.get(response.headers["Location"]).data.decode()
    assert 'data-kind="refusal"' in after


def test_a_fault_in_the_diagram_at_registration_is_a_clear_page_and_registers_nothing(
        web: FlaskClient, product: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("service.domain.package.check_package", broken)
    sign_in(web, "clerk")
    response = web.post("/intake/application", data=INTAKE_FORM)
    html = response.data.decode()
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert "Из-за ошибки в схеме процесса действие не выполнено; ничего не сохранено." in html
    assert "ZeroDivisionError" not in html and "Traceback" not in html
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 0


def test_intake_errors_are_shown_beside_the_fields_and_values_kept(web: FlaskClient) -> None:
    sign_in(web, "clerk")
    bad = dict(INTAKE_FORM, **{"child.iin": "150402500019", "child.full_name": "Ахметов Нұрлан"})
    response = web.post("/intake/application", data=bad)
    html = response.data.decode()
    assert response.status_code == 422
    assert 'id="f-child-iin-error"' in html and 'value="150402500019"' in html
    assert 'value="Ахметов Нұрлан"' in html


def test_head_completes_the_task_and_a_second_submission_is_refused(product: Services, web: FlaskClient) -> None:
    case = _submit(product)
    sign_in(web, "head")
    [task_id] = _task_ids(web.get("/tasks").data)
    page = web.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    wrong = web.post(f"/tasks/{task_id}", data={"grade": "12", "language": ""})
    assert wrong.status_code == 422 and 'value="12"' in wrong.data.decode()
    done = web.post(f"/tasks/{task_id}", data={"grade": "5", "language": "kk"})
    assert done.status_code == 302 and done.headers["Location"] == f"/cases/{case}"
    again = web.post(f"/tasks/{task_id}", data={"grade": "5", "language": "kk"})
    assert again.status_code == 409  # double click / second tab: no second completion


def test_a_stale_form_is_refused_with_a_conflict(product: Services, web: FlaskClient) -> None:
    _submit(product)
    sign_in(web, "head")
    [task_id] = _task_ids(web.get("/tasks").data)
    stale = web.post(f"/tasks/{task_id}", data={"grade": "5", "language": "kk", "version": "0"})
    assert stale.status_code == 409


def test_wrong_role_gets_403_and_unknown_ids_404(product: Services, web: FlaskClient) -> None:
    _submit(product)
    sign_in(web, "head")
    [task_id] = _task_ids(web.get("/tasks").data)
    web.post("/logout")
    sign_in(web, "specialist")
    assert web.get(f"/tasks/{task_id}").status_code == 403
    assert web.get("/intake/application").status_code == 403
    assert web.get("/cases/999999").status_code == 404
    assert web.get("/documents/999999").status_code == 404
    assert web.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 409


def test_claim_and_release(product: Services, web: FlaskClient) -> None:
    _submit(product)
    sign_in(web, "head")
    [task_id] = _task_ids(web.get("/tasks").data)
    web.post(f"/tasks/{task_id}/claim")
    mine = web.get("/tasks?scope=mine").data
    assert _task_ids(mine) == [task_id]
    web.post(f"/tasks/{task_id}/release")
    assert _task_ids(web.get("/tasks?scope=mine").data) == []


def test_task_list_shows_working_days_left_and_marks_overdue(product: Services, web: FlaskClient) -> None:
    _submit(product, number="APP-P", channel="portal")
    sign_in(web, "clerk")
    html = web.get("/tasks?role=office_clerk").data.decode()
    assert 'class="overdue"' in html  # due 27 March 2026: long past on the real clock
    assert "Просрочено" in html
    assert web.get("/tasks?role=office_clerk&overdue=1").data.count(b"data-task-id") == 1


def test_language_switch_sticks(web: FlaskClient) -> None:
    sign_in(web, "clerk")
    web.post("/language", data={"lang": "kk", "next": "/tasks"})
    assert "Тапсырмалар".encode() in web.get("/tasks").data
    web.post("/logout")
    sign_in(web, "clerk")  # remembered for the person, not just the session
    assert "Тапсырмалар".encode() in web.get("/tasks").data


def test_documents_open_as_html_and_pdf(product: Services, web: FlaskClient) -> None:
    case = _submit(product)
    sign_in(web, "clerk")
    html = web.get(f"/cases/{case}").data.decode()
    doc_id = re.search(r'/documents/(\d+)"', html).group(1)
    document = web.get(f"/documents/{doc_id}")
    assert document.status_code == 200 and "style-src 'unsafe-inline'" in document.headers["Content-Security-Policy"]
    pdf = web.get(f"/documents/{doc_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_oversize_upload_gets_413(product: Services, web: FlaskClient) -> None:
    sign_in(web, "clerk")
    too_big = "x" * (product.settings.max_attachment_bytes * 5 + 2 * 1024 * 1024)
    response = web.post("/intake/application", data={"note": too_big})
    assert response.status_code == 413


def test_a_paper_complaint_is_registered_at_the_office(web: FlaskClient) -> None:
    sign_in(web, "clerk")
    assert web.get("/intake/complaint").status_code == 200
    response = web.post("/intake/complaint", data={
        "channel": "paper", "addressee": "provider",
        "complainant.full_name": "Ахметова Айгүл", "complainant.address": "Алматы, Абай даңғ., 1",
        "appealed.subject": "decision", "appealed.description": "Отказ в приеме документов",
        "against_provider": "true", "text": "Прошу пересмотреть отказ.",
    })
    assert response.status_code == 302, response.data.decode()[:2000]
    html = web.get(response.headers["Location"]).data.decode()
    assert 'data-kind="complaint_acknowledgement"' in html


def test_analysts_see_every_diagram_and_the_paragraph_table(web: FlaskClient) -> None:
    sign_in(web, "clerk")
    assert web.get("/diagrams").status_code == 403
    web.post("/logout")
    sign_in(web, "analyst")
    html = web.get("/diagrams").data.decode()
    assert html.count('class="bpmn"') == 3 and "service_delivery:check_portal_request" in html


def test_scans_are_checked_by_content_and_medical_downloads_are_logged(product: Services, web: FlaskClient) -> None:
    sign_in(web, "clerk")
    fake = dict(INTAKE_FORM, **{"upload.vkk_conclusion": (io.BytesIO(b"just text, not a scan"), "vkk.pdf")})
    refused = web.post("/intake/application", data=fake, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Файл «vkk.pdf» не является PDF, JPEG или PNG." in refused.data.decode()
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 0  # nothing registered, nothing stored

    scan = b"%PDF-1.4\n% a scanned VKK conclusion\n%%EOF\n"
    good = dict(INTAKE_FORM, **{"upload.vkk_conclusion": (io.BytesIO(scan), "vkk.pdf")})
    response = web.post("/intake/application", data=good, content_type="multipart/form-data")
    assert response.status_code == 302
    html = web.get(response.headers["Location"]).data.decode()
    attachment_id = re.search(r'/attachments/(\d+)"', html).group(1)
    download = web.get(f"/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == scan
    case = int(response.headers["Location"].rsplit("/", 1)[1])
    with product.uow(write=False) as uow:
        key = uow.instances.get(case).business_key
        logged = [e for e in uow.session.execute(
            text("SELECT actor, action FROM event_log WHERE business_key = :key"), {"key": key})]
    assert ("clerk", "restricted_document_downloaded") in [tuple(row) for row in logged]


def test_a_complaint_goes_from_the_office_through_the_provider_to_the_reviewer(product: Services) -> None:
    """Gymnasium № 3's clerk registers a complaint about the gymnasium addressed to Kokshetau's education department."""
    clerk, head, reviewer = _client(product), _client(product), _client(product)
    sign_in(clerk, "clerk3")
    complaint = {
        "channel": "electronic", "addressee": "local_executive_body", "complainant.full_name": "Ахметова Айгүл",
        "complainant.email": "aigul@example.kz", "appealed.subject": "decision",
        "appealed.description": "Отказ в приеме документов", "against_provider": "true", "text": "Прошу пересмотреть.",
    }
    unaddressed = clerk.post("/intake/complaint", data=complaint)
    assert unaddressed.status_code == 422 and 'id="f-addressee-bin-error"' in unaddressed.data.decode()
    registered = clerk.post("/intake/complaint", data=dict(complaint, addressee_bin=DEPARTMENT))
    assert registered.status_code == 302, registered.data.decode()[:2000]
    sign_in(head, "head")  # another school's head is not told of it
    assert _task_ids(head.get("/tasks?role=appealed_official").data) == []
    head.post("/logout")
    sign_in(head, "head3")
    [provider_task] = _task_ids(head.get("/tasks?role=appealed_official").data)
    assert head.get(f"/tasks/{provider_task}").status_code == 200
    assert head.post(f"/tasks/{provider_task}", data={"decision": "forward"}).status_code == 302
    sign_in(reviewer, "reviewer")
    [review_task] = _task_ids(reviewer.get("/tasks").data)
    page = reviewer.get(f"/tasks/{review_task}").data.decode()
    assert 'name="reasons"' in page and 'name="extension_days"' in page
    missing = reviewer.post(f"/tasks/{review_task}", data={"decision": "satisfied"})
    assert missing.status_code == 422  # the reasons are required
    done = reviewer.post(f"/tasks/{review_task}", data={"decision": "satisfied", "reasons": "Отказ был неправомерным."})
    assert done.status_code == 302
    case_page = reviewer.get(done.headers["Location"]).data.decode()
    assert 'data-kind="complaint_decision"' in case_page and 'data-status="completed"' in case_page



def test_a_court_appeal_is_recorded_from_the_case_page(product: Services, web: FlaskClient) -> None:
    case = _submit(product)
    sign_in(web, "specialist")
    assert web.post(f"/cases/{case}/court-appeal", data={"court": "x", "filed_on": "2026-04-10"}).status_code == 403
    web.post("/logout")
    sign_in(web, "head")
    assert 'name="filed_on"' in web.get(f"/cases/{case}").data.decode()
    future = web.post(f"/cases/{case}/court-appeal", data={"court": "СМАС г. Алматы", "filed_on": "2099-01-01"})
    assert future.status_code == 302
    assert "cannot be filed in the future" in web.get(f"/cases/{case}").data.decode()
    web.post(f"/cases/{case}/court-appeal", data={"court": "СМАС г. Алматы", "filed_on": "2026-04-10"})
    with product.uow(write=False) as uow:
        [appeal] = [e for e in case_view(uow, product.runtime, actor=SYSTEM, instance_id=case).history
                    if e.action == "court_appeal_recorded"]
    assert (appeal.actor, appeal.paragraph, appeal.details["court"]) == ("head", "§10", "СМАС г. Алматы")
