"""§7-1 and the SMS gateway: the delivery report starts the 24 hours, a late reply is answered, the
texts come from templates, and offers started on the first version of the diagram still finish.

Through the API (Flask's test client) where the gateway is the caller, through the use cases
elsewhere; the product as shipped (processes/, forms/), real dates.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.application.cases import complete_task, deliver_message
from service.application.queries import case_view, find_case
from service.application.sms import report_sms_delivery
from service.application.staff import register_api_client
from service.application.submissions import reply_to_offer
from service.application.timers import fire_due_timers
from service.bootstrap import Services, build_services
from service.documents.sms import sms_texts
from service.domain.errors import FormInvalid, InvalidInput
from service.domain.identity import make_iin
from service.domain.model import OutboxItem
from service.domain.staff import Actor
from service.domain.time import format_instant
from service.engine.library import DiagramLibrary
from service.persistence.repositories import InboxRepository
from service.web import create_app

from .support import PROJECT, SCHOOL_25, SYSTEM, at, owners, person, registry

PHONE = "+77011234567"
FRIDAY_1700 = at("2026-03-20T17:00+05:00")
LEGACY = PROJECT / "tests" / "legacy"


def conclusion(offer: str = "OFFER-1") -> dict[str, Any]:
    """A VKK conclusion as the information system reports it (the offer number is the case number)."""
    today = date.today()
    born = today.replace(year=today.year - 10, day=1)
    return {
        "offer_number": offer,
        "child": {"full_name": "Ахметов Нұрлан", "iin": make_iin(born, "male", 1), "birth_date": born.isoformat()},
        "applicant": {"full_name": "Ахметова Айгүл", "iin": make_iin(date(1985, 6, 15), "female", 7), "phone": PHONE},
        "vkk_conclusion": {"number": "ВКК-18", "issued_on": (today - timedelta(days=3)).isoformat(),
                           "valid_until": (today + timedelta(days=300)).isoformat(),
                           "recommends_home_schooling": True},
        "provider_bin": SCHOOL_25,
    }


def offer_case(product: Services, offer: str = "OFFER-1", now=FRIDAY_1700) -> int:
    """Start an offer as the information system would."""
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, actor=Actor.client("is"), name="vkk_conclusion_registered",
                                  business_key=offer, payload=conclusion(offer), owners=owners(product), now=now)
    assert receipt.instance_id is not None
    return receipt.instance_id


def sms_of(product: Services, instance_id: int) -> list[OutboxItem]:
    """The SMS a case sent, oldest first."""
    with product.uow(write=False) as uow:
        view = case_view(uow, product.runtime, actor=SYSTEM, instance_id=instance_id)
    return [o for o in reversed(view.outbox) if o.channel == "sms"]


def view(product: Services, instance_id: int):
    with product.uow(write=False) as uow:
        return case_view(uow, product.runtime, actor=SYSTEM, instance_id=instance_id)


# --- the API: POST /api/v1/sms/deliveries -------------------------------------------------------------------


@pytest.fixture
def tokens(product: Services) -> dict[str, str]:
    clients = {"gateway": ("sms:reply", "sms:delivery"), "replies_only": ("sms:reply",), "reader": ("cases:read",)}
    with product.uow() as uow:
        return {name: register_api_client(uow, name=name, scopes=scopes, now=product.now())
                for name, scopes in clients.items()}


@pytest.fixture
def api(product: Services) -> FlaskClient:
    return create_app(product.settings, product, TESTING=True).test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error: dict[str, Any] = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_the_delivery_report_starts_the_24_hours_once(api: FlaskClient, product: Services,
                                                      tokens: dict[str, str]) -> None:
    instance_id = offer_case(product, now=product.now() - timedelta(hours=2))
    [sms] = sms_of(product, instance_id)
    assert view(product, instance_id).timers[0].element_id == "delivery_not_confirmed"
    delivered_at = (product.now() - timedelta(hours=1)).replace(microsecond=0)
    report = {"message_id": sms.idempotency_key, "status": "delivered", "at": format_instant(delivered_at)}
    answer = api.post("/api/v1/sms/deliveries", json=report, headers=bearer(tokens["gateway"]))
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.get_json() == {"message_id": sms.idempotency_key, "outcome": "delivered"}
    timers = view(product, instance_id).timers
    assert [(t.element_id, t.due_at) for t in timers] == [("reply_window_closed", delivered_at + timedelta(hours=24))]
    # the gateway resends its report: the first counts, nothing moves
    again = api.post("/api/v1/sms/deliveries", json={**report, "at": format_instant(product.now())},
                     headers=bearer(tokens["gateway"]))
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert view(product, instance_id).timers == timers
    # a later 'failed' on the same SMS is noted on the case; the offer, already waiting for the answer, is not moved
    failed = api.post("/api/v1/sms/deliveries", json={**report, "status": "failed"}, headers=bearer(tokens["gateway"]))
    assert failed.status_code == 202 and failed.get_json()["outcome"] == "recorded"
    assert view(product, instance_id).timers == timers
    with product.uow(write=False) as uow:
        assert uow.inbox.pending_for(["sms_delivery_report"], "OFFER-1") == []


def test_a_token_without_the_delivery_scope_moves_nothing(api: FlaskClient, product: Services,
                                                           tokens: dict[str, str]) -> None:
    instance_id = offer_case(product, now=product.now() - timedelta(hours=2))
    [sms] = sms_of(product, instance_id)
    report = {"message_id": sms.idempotency_key, "status": "delivered", "at": format_instant(product.now())}
    error_of(api.post("/api/v1/sms/deliveries", json=report, headers=bearer(tokens["replies_only"])), 403, "forbidden")
    error_of(api.post("/api/v1/sms/deliveries", json=report, headers=bearer(tokens["reader"])), 403, "forbidden")
    error_of(api.post("/api/v1/sms/deliveries", json=report), 401, "unauthorised")
    error_of(api.post("/api/v1/sms/deliveries", json=report, headers=bearer("not-a-token")), 401, "unauthorised")
    assert [t.element_id for t in view(product, instance_id).timers] == ["delivery_not_confirmed"]


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    (b"not json", 400, "bad_request", None),
    (b"[1, 2]", 400, "bad_request", None),
    ({}, 422, "validation_failed", "message_id"),
    ({"status": "delivered", "at": "2026-03-20T17:00:00+05:00"}, 422, "validation_failed", "message_id"),
    ({"message_id": 7, "status": "delivered", "at": "2026-03-20T17:00:00+05:00"}, 422, "validation_failed",
     "message_id"),
    ({"message_id": "x" * 201, "status": "delivered", "at": "2026-03-20T17:00:00+05:00"}, 422, "validation_failed",
     "message_id"),
    ({"message_id": "m", "status": "read", "at": "2026-03-20T17:00:00+05:00"}, 422, "validation_failed", "status"),
    ({"message_id": "m", "status": "delivered", "at": "2026-03-20T17:00"}, 422, "validation_failed", "at"),
    ({"message_id": "m", "status": "delivered", "at": "yesterday"}, 422, "validation_failed", "at"),
    ({"message_id": "m", "status": "delivered", "at": "2099-01-01T00:00:00+05:00"}, 422, "validation_failed", "at"),
    ({"message_id": "m", "status": "delivered", "at": "2026-03-20T17:00:00+05:00", "extra": 1}, 422,
     "validation_failed", "extra"),
    ({"message_id": "no-such-sms", "status": "delivered", "at": "2026-03-20T17:00:00+05:00"}, 404, "not_found",
     None),
])
def test_bad_delivery_reports_get_a_clear_4xx(api: FlaskClient, tokens: dict[str, str], body: Any, status: int,
                                              code: str, field: str | None) -> None:
    headers = bearer(tokens["gateway"])
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        response = api.post("/api/v1/sms/deliveries", data=body, headers=headers)
    else:
        response = api.post("/api/v1/sms/deliveries", json=body, headers=headers)
    error = error_of(response, status, code)
    if field is not None:
        assert field in error["fields"], error


def test_a_delivery_before_the_sms_was_sent_is_refused(api: FlaskClient, product: Services,
                                                       tokens: dict[str, str]) -> None:
    sent = product.now() - timedelta(hours=2)
    instance_id = offer_case(product, now=sent)
    [sms] = sms_of(product, instance_id)
    report = {"message_id": sms.idempotency_key, "status": "delivered", "at": format_instant(sent - timedelta(hours=1))}
    error = error_of(api.post("/api/v1/sms/deliveries", json=report, headers=bearer(tokens["gateway"])), 422,
                     "validation_failed")
    assert list(error["fields"]) == ["at"]
    assert [t.element_id for t in view(product, instance_id).timers] == ["delivery_not_confirmed"]


def test_a_report_on_a_message_that_is_no_sms_is_not_found(api: FlaskClient, product: Services,
                                                            tokens: dict[str, str]) -> None:
    instance_id = offer_case(product, now=product.now() - timedelta(hours=2))
    [monitoring] = [o for o in view(product, instance_id).outbox if o.channel == "monitoring"]
    report = {"message_id": monitoring.idempotency_key, "status": "delivered", "at": format_instant(product.now())}
    error_of(api.post("/api/v1/sms/deliveries", json=report, headers=bearer(tokens["gateway"])), 404, "not_found")


def test_a_late_reply_is_answered_by_sms_and_the_gateway_told_so(api: FlaskClient, product: Services,
                                                                   tokens: dict[str, str]) -> None:
    sent = product.now() - timedelta(hours=30)
    instance_id = offer_case(product, now=sent)
    [offer_sms] = sms_of(product, instance_id)
    report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"),
                        message_id=offer_sms.idempotency_key, status="delivered", at=sent, now=sent)
    reply = {"offer_number": "OFFER-1", "phone": PHONE, "consent": True, "text": "ИӘ"}
    answer = api.post("/api/v1/sms/replies", json=reply, headers={**bearer(tokens["gateway"]), "Idempotency-Key": "r1"})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.get_json() == {"offer_number": "OFFER-1", "outcome": "closed"}
    closed = view(product, instance_id)
    assert closed.status == "completed"  # the 24 hours had run out: the timer fired before the reply was judged
    answers = [o for o in sms_of(product, instance_id) if o.message_name == "sms.proactive_offer_closed"]
    assert len(answers) == 1 and answers[0].payload["phone"] == PHONE
    assert answers[0].payload["texts"] == sms_texts("sms.proactive_offer_closed", {"offer_number": "OFFER-1"})
    with product.uow(write=False) as uow:
        assert uow.inbox.pending_for(["proactive_reply"], "OFFER-1") == []
        assert find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery",
                         business_key="OFFER-1") is None
    again = api.post("/api/v1/sms/replies", json=reply, headers={**bearer(tokens["gateway"]), "Idempotency-Key": "r1"})
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    # another late reply from the same phone is handled too, but the phone is not told twice
    other = api.post("/api/v1/sms/replies", json=reply, headers={**bearer(tokens["gateway"]), "Idempotency-Key": "r2"})
    assert other.status_code == 202 and other.get_json()["outcome"] == "closed"
    assert len([o for o in sms_of(product, instance_id) if o.message_name == "sms.proactive_offer_closed"]) == 1
    with product.uow(write=False) as uow:
        assert uow.inbox.pending_for(["proactive_reply"], "OFFER-1") == []


def test_the_openapi_document_describes_the_delivery_report(api: FlaskClient) -> None:
    document = api.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/sms/deliveries"]["post"]
    assert operation["x-scope"] == "sms:delivery"
    assert {"202", "200", "401", "403", "404", "422"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["SmsDeliveryReport"]
    assert schema["required"] == ["message_id", "status", "at"]
    assert "closed" in document["components"]["schemas"]["ReplyAccepted"]["properties"]["outcome"]["enum"]


# --- the offer's own course -------------------------------------------------------------------------------


def test_a_failed_delivery_goes_to_the_clerk_who_may_send_the_offer_again(product: Services) -> None:
    instance_id = offer_case(product)
    [first] = sms_of(product, instance_id)
    report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"), message_id=first.idempotency_key,
                        status="failed", at=at("2026-03-20T17:05+05:00"), now=at("2026-03-20T17:05+05:00"),
                        reason="absent subscriber")
    [task] = view(product, instance_id).open_tasks
    assert (task.element_id, task.lane) == ("follow_up_delivery", "office_clerk")
    clerk = person(product, "office_clerk")
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=clerk, task_id=task.task_id,
                      data={"outcome": "resend", "note": "Шлюз был недоступен"}, now=at("2026-03-23T10:00+05:00"))
    first_again, second = sms_of(product, instance_id)
    assert first_again.id == first.id and second.message_name == "sms.proactive_offer"
    assert second.idempotency_key != first.idempotency_key
    # a late report on the first SMS does not start the 24 hours of the second
    late = report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"),
                               message_id=first.idempotency_key, status="delivered",
                               at=at("2026-03-23T10:01+05:00"), now=at("2026-03-23T10:01+05:00"))
    assert late.result == "recorded"
    assert [t.element_id for t in view(product, instance_id).timers] == ["delivery_not_confirmed"]
    report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"),
                        message_id=second.idempotency_key, status="delivered", at=at("2026-03-23T10:02+05:00"),
                        now=at("2026-03-23T10:02+05:00"))
    assert [(t.element_id, t.due_at) for t in view(product, instance_id).timers] == [
        ("reply_window_closed", at("2026-03-24T10:02+05:00"))]


def test_the_clerk_form_after_silence_has_no_consent(product: Services) -> None:
    quiet = dataclasses.replace(product.settings, proactive_silence_is_refusal=False)
    services = build_services(quiet)
    services.test_registry = registry(product)  # type: ignore[attr-defined]
    try:
        instance_id = offer_case(services)
        [sms] = sms_of(services, instance_id)
        report_sms_delivery(services.write_uow, services.runtime, actor=Actor.client("sms"),
                            message_id=sms.idempotency_key, status="delivered", at=FRIDAY_1700, now=FRIDAY_1700)
        assert fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-21T17:00+05:00")).fired
        [task] = view(services, instance_id).open_tasks
        assert task.element_id == "contact_after_silence"
        with services.uow() as uow, pytest.raises(FormInvalid) as refused:
            complete_task(uow, services.runtime, actor=person(services, "office_clerk"), task_id=task.task_id,
                          data={"consent": True, "note": "Мама согласна"}, now=at("2026-03-23T10:00+05:00"))
        assert set(refused.value.fields) == {"consent", "outcome"}
    finally:
        services.database.dispose()


# --- the texts ------------------------------------------------------------------------------------------------


def test_every_sms_a_diagram_sends_has_a_text_in_both_languages() -> None:
    library = DiagramLibrary.from_directory(PROJECT / "processes")
    names = {
        message.get("name")
        for diagram in library.diagrams()
        for message in _messages(diagram.source)
        if (message.get("name") or "").startswith("sms.")
    }
    assert names == {"sms.proactive_offer", "sms.proactive_offer_closed"}
    values = {"phone": PHONE, "offer_number": "PRO-1", "child_name": "Ахметов Нұрлан"}
    for name in names:
        texts = sms_texts(name, values)
        assert set(texts) == {"kk", "ru"} and all("PRO-1" in text for text in texts.values()), texts
    with pytest.raises(ValueError, match="child_name"):
        sms_texts("sms.proactive_offer", {"offer_number": "PRO-1"})
    with pytest.raises(ValueError, match="no SMS template"):
        sms_texts("sms.unknown", values)


def test_validate_names_an_sms_without_its_templates(tmp_path) -> None:
    from service.application.catalog import check_sms_texts

    assert check_sms_texts(DiagramLibrary.from_directory(PROJECT / "processes").diagrams()) == []
    demo = (PROJECT / "tests" / "diagrams" / "offer_demo.bpmn").read_text(encoding="utf-8")
    (tmp_path / "offer_demo.bpmn").write_text(demo.replace('name="sms.proactive_offer"', 'name="sms.reminder"'),
                                              encoding="utf-8")
    problems = check_sms_texts(DiagramLibrary.from_directory(tmp_path).diagrams())
    expected = "offer_demo.bpmn: SMS 'sms.reminder' has no text template"
    assert [problem.split(" (expected")[0].endswith(expected) for problem in problems] == [True] * 2, problems
    assert problems[0].endswith('msgid "sms.reminder" in service/translations/kk/LC_MESSAGES/documents.po)')
    assert problems[1].endswith('msgid "sms.reminder" in service/translations/ru/LC_MESSAGES/documents.po)')
    from service.application.validation import validate_files

    found = [p for p in validate_files(None, PROJECT / "forms", processes_dir=tmp_path, checks=[])
             if p.kind == "sms-text"]
    assert [p.hint for p in found] == [
        'add msgid "sms.reminder" with its Kazakh and Russian text to the documents catalogue '
        "(%(name)s for a value of the message), then make translations"] * 2


def _messages(source: bytes) -> list[Any]:
    from lxml import etree

    root = etree.fromstring(source)
    return root.findall("{http://www.omg.org/spec/BPMN/20100524/MODEL}message")


# --- offers started on the first version of the diagram -----------------------------------------------------


def first_version_library() -> DiagramLibrary:
    """The diagrams as they were before the delivery report: proactive_offer v1 beside today's service."""
    processes = PROJECT / "processes"
    library = DiagramLibrary()
    library.load_files([processes / "service_delivery.bpmn", processes / "complaint_review.bpmn"], base=processes)
    library.load_files([LEGACY / "proactive_offer_v1.bpmn"], base=LEGACY)
    return library


def test_offers_started_on_the_first_version_still_finish(product: Services, tmp_path) -> None:
    old_library = first_version_library()
    old = build_services(product.settings, library=old_library)
    old.test_registry = registry(product)  # type: ignore[attr-defined]
    try:
        waiting = offer_case(old, "OLD-1")
        closing = offer_case(old, "OLD-2")
    finally:
        old.database.dispose()
    assert view(product, waiting).timers[0].element_id == "reply_window_closed"  # v1: 24 hours from queueing
    # the shipped product (the new version current) finishes them on the version they started with
    outcome = reply_to_offer(product.write_uow, product.runtime, actor=Actor.client("sms"), offer="OLD-1",
                             consent=True, phone=PHONE, text=None, idempotency_key=None,
                             now=at("2026-03-21T09:00+05:00"))
    assert outcome == "delivered" and view(product, waiting).status == "completed"
    with product.uow(write=False) as uow:
        assert find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery", business_key="OLD-1")
    fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T17:00+05:00"))
    assert view(product, closing).status == "completed"


def test_a_first_version_follow_up_cannot_record_consent(product: Services) -> None:
    old_library = first_version_library()
    quiet = dataclasses.replace(product.settings, proactive_silence_is_refusal=False)
    old = build_services(quiet, library=old_library)
    old.test_registry = registry(product)  # type: ignore[attr-defined]
    try:
        instance_id = offer_case(old, "OLD-3")
        fire_due_timers(old.write_uow, old.runtime, now=at("2026-03-21T17:00+05:00"))
    finally:
        old.database.dispose()
    [task] = view(product, instance_id).open_tasks
    assert task.element_id == "follow_up_silence"
    clerk = person(product, "office_clerk")
    with product.uow() as uow, pytest.raises(FormInvalid) as refused:
        complete_task(uow, product.runtime, actor=clerk, task_id=task.task_id,
                      data={"consent": True, "note": "Мама по телефону согласна"}, now=at("2026-03-23T10:00+05:00"))
    assert list(refused.value.fields) == ["consent"]
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=clerk, task_id=task.task_id,
                      data={"consent": False, "note": "Дозвонились; подаст заявление через портал"},
                      now=at("2026-03-23T10:00+05:00"))
    assert view(product, instance_id).status == "completed"
    with product.uow(write=False) as uow:
        assert find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery",
                         business_key="OLD-3") is None


def test_an_sms_diagram_without_a_template_saves_nothing(product: Services) -> None:
    from service.application._running import sms_payload

    with pytest.raises(InvalidInput, match="no SMS template"):
        sms_payload("sms.unknown", {"phone": PHONE})


# --- the clerk's pages ------------------------------------------------------------------------------------------


def test_the_clerk_sees_the_undelivered_offer_and_sends_it_again_from_the_task_page(product: Services) -> None:
    from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts

    with product.uow() as uow:
        ensure_demo_accounts(uow, product.now())
    instance_id = offer_case(product, now=product.now() - timedelta(hours=25))
    fire_due_timers(product.write_uow, product.runtime, now=product.now())  # no delivery report in 24 hours
    [task] = view(product, instance_id).open_tasks
    client = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    password = next(account.password for account in DEMO_ACCOUNTS if account.login == "clerk")
    assert client.post("/login", data={"login": "clerk", "password": password}).status_code == 302
    page = client.get(f"/tasks/{task.task_id}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Доставка SMS с предложением не подтверждена" in page and "Отправить предложение повторно" in page
    assert "Согласие" not in page  # the clerk records what happened, never consent
    case_page = client.get(f"/cases/{instance_id}")
    assert case_page.status_code == 200 and "follow_up_delivery" in case_page.get_data(as_text=True)
    done = client.post(f"/tasks/{task.task_id}", data={"outcome": "resend", "note": "Шлюз был недоступен"})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert [s.message_name for s in sms_of(product, instance_id)] == ["sms.proactive_offer"] * 2


def test_a_retry_whose_twin_was_kept_after_its_first_look_is_a_duplicate_not_a_reused_key(
        api: FlaskClient, product: Services, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two identical retries racing: the second looks before the first is kept, then finds its key (PostgreSQL race)."""
    offer_case(product, now=product.now())
    reply = {"offer_number": "OFFER-1", "phone": PHONE, "consent": False, "text": "ЖОҚ"}
    headers = {**bearer(tokens["gateway"]), "Idempotency-Key": "twin"}
    first = api.post("/api/v1/sms/replies", json=reply, headers=headers)
    assert first.status_code == 202, first.get_data(as_text=True)
    monkeypatch.setattr(InboxRepository, "seen", lambda self, key: False)  # its look came before the twin was kept
    second = api.post("/api/v1/sms/replies", json=reply, headers=headers)
    assert second.status_code == 200 and second.get_json()["outcome"] == "duplicate", second.get_data(as_text=True)
    other = api.post("/api/v1/sms/replies", json={**reply, "consent": True, "text": "ИӘ"}, headers=headers)
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "conflict"  # another body: refused
