"""The integration API (/api/v1) through Flask's test client, then property-based with schemathesis
against the app served on loopback. The product as shipped: processes/, forms/, real dates."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from service.application.queries import case_data, find_case
from service.application.staff import register_api_client
from service.bootstrap import Services
from service.domain.identity import make_iin
from service.domain.staff import API_SCOPES
from service.web import create_app
from service.web.openapi import build_document

from .support import AKIMAT, PROJECT, QUALITY, SCHOOL_25, SCHOOL_112, SYSTEM, registry

TODAY = date.today()
CHILD_BORN = TODAY.replace(year=TODAY.year - 10, day=1)
CHILD_IIN = make_iin(CHILD_BORN, "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)
PHONE = "+77011234567"




@pytest.fixture
def tokens(product: Services) -> dict[str, str]:
    """One API client per outside system, one with every scope, one that may only read."""
    clients = {
        "portal": ("applications:submit", "cases:read"), "sms": ("sms:reply",), "is": ("proactive:trigger",),
        "complaints": ("complaints:file",), "reader": ("cases:read",), "all": API_SCOPES,
    }
    with product.uow() as uow:
        return {name: register_api_client(uow, name=name, scopes=scopes, now=product.now())
                for name, scopes in clients.items()}


def _app(product: Services, **overrides: Any) -> Flask:
    return create_app(product.settings, product, TESTING=True, **overrides)


@pytest.fixture
def api(product: Services) -> FlaskClient:
    return _app(product).test_client()


def auth(token: str, key: str | None = None, **headers: str) -> dict[str, str]:
    result = {"Authorization": f"Bearer {token}", **headers}
    if key is not None:
        result["Idempotency-Key"] = key
    return result


def application(**changes: Any) -> dict[str, Any]:
    """An application as the portal sends it (no number, channel or moment: the service sets them)."""
    body: dict[str, Any] = {
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "phone": PHONE, "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": CHILD_BORN.isoformat()},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": (TODAY - timedelta(days=10)).isoformat(),
                           "valid_until": (TODAY + timedelta(days=300)).isoformat(),
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion"],
        "attachments": [{"kind": "vkk_conclusion", "filename": "vkk.pdf", "content_type": "application/pdf",
                         "size": 123456}],
        "provider_bin": SCHOOL_25,
    }
    body.update(changes)
    return body


def conclusion(offer: str = "OFFER-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "offer_number": offer,
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": CHILD_BORN.isoformat()},
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "phone": PHONE},
        "vkk_conclusion": {"number": "ВКК-18", "issued_on": (TODAY - timedelta(days=3)).isoformat(),
                           "valid_until": (TODAY + timedelta(days=300)).isoformat(),
                           "recommends_home_schooling": True},
        "provider_bin": SCHOOL_25,
    }
    body.update(changes)
    return body


def complaint(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "addressee": "local_executive_body", "provider_bin": SCHOOL_25, "addressee_bin": AKIMAT,
        "complainant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "email": "aigul@example.kz",
                        "phone": PHONE},
        "appealed": {"subject": "decision", "description": "Өтінішті қараудан бас тарту"},
        "against_provider": False,
        "text": "Бас тартуды жоюды сұраймын.",
    }
    body.update(changes)
    return body


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    """The JSON error of a response, after checking its status, code and that it is JSON, not a page."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error: dict[str, Any] = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def case_count(product: Services) -> int:
    with product.uow(write=False) as uow:
        return uow.instances.count()


# --- applications ----------------------------------------------------------------------------------------


def test_portal_application_starts_a_case_and_the_case_shows_its_stage(
        api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    response = api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"], "k-1"))
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert set(created) == {"case_number", "instance_id", "status", "stage"}
    assert created["case_number"].startswith("APP-") and created["status"] == "running"
    assert created["stage"] == "check_request"  # §5: the office checks a portal request
    with product.uow(write=False) as uow:
        request = case_data(uow, product.runtime, actor=SYSTEM, instance_id=created["instance_id"])["request"]
    assert request["channel"] == "portal" and request["application_number"] == created["case_number"]
    assert request["received_at"].endswith("+05:00") and request["child"]["iin"] == CHILD_IIN

    seen = api.get(f"/api/v1/cases/{created['case_number']}", headers=auth(tokens["reader"]))
    assert seen.status_code == 200
    case = seen.get_json()
    assert case["case_number"] == created["case_number"] and case["process"] == "service_delivery"
    assert case["status"] == "running" and case["stage"] == "check_request"
    assert case["stage_name"] == "Электронный запрос на проверке"
    assert [s["stage"] for s in case["stages"]] == ["check_request"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*\+05:00", case["stages"][0]["at"])
    assert case["documents"] == []  # nothing is issued before the office checks the request
    assert "child" not in case and PARENT_IIN not in seen.get_data(as_text=True)  # status only, no personal data
    assert seen.headers["Cache-Control"] == "no-store"


def test_a_retry_returns_the_same_case_and_another_body_under_the_key_is_refused(
        api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    first = api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"], "retry-1"))
    again = api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"], "retry-1"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert case_count(product) == 1

    changed = application(documents=["application"])
    error_of(api.post("/api/v1/applications", json=changed, headers=auth(tokens["portal"], "retry-1")),
             409, "conflict")
    assert case_count(product) == 1
    # the same body under a new key is a new application; the same key of another client too
    other = api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"], "retry-2"))
    mine = api.post("/api/v1/applications", json=application(), headers=auth(tokens["all"], "retry-1"))
    assert (other.status_code, mine.status_code) == (201, 201)
    assert len({first.get_json()["case_number"], other.get_json()["case_number"],
                mine.get_json()["case_number"]}) == 3
    assert case_count(product) == 3


def _race(app: Flask, times: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> list[tuple[int, Any]]:
    """The same request sent ``times`` times at once (a retry arriving while the first is still running)."""
    barrier = threading.Barrier(times)
    answers: list[tuple[int, Any]] = []

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(path, json=body, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(answers, key=lambda answer: -answer[0])


def test_racing_retries_start_one_case_and_deliver_one_reply(product: Services, tokens: dict[str, str]) -> None:
    app = _app(product)
    answers = _race(app, 4, "/api/v1/applications", application(), auth(tokens["portal"], "race"))
    assert [status for status, _ in answers] == [201, 200, 200, 200], answers
    assert len({body["case_number"] for _, body in answers}) == 1
    assert case_count(product) == 1

    assert app.test_client().post("/api/v1/proactive/conclusions", json=conclusion(),
                                  headers=auth(tokens["is"])).status_code == 201
    reply = {"offer_number": "OFFER-1", "phone": PHONE, "consent": False}
    answers = _race(app, 3, "/api/v1/sms/replies", reply, auth(tokens["sms"], "sms-race"))
    assert all("outcome" in body for _, body in answers), answers
    assert [(status, body["outcome"]) for status, body in answers] == [
        (202, "delivered"), (200, "duplicate"), (200, "duplicate")], answers


def test_applications_need_an_idempotency_key(api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    error_of(api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"])),
             400, "bad_request")
    error_of(api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"], "x" * 201)),
             400, "bad_request")
    assert case_count(product) == 0


def test_invalid_bodies_name_the_fields_in_the_callers_language(
        api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    bad = application(child={"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN[:-1] + str((int(CHILD_IIN[-1]) + 1) % 10),
                             "birth_date": CHILD_BORN.isoformat()}, channel="office")
    bad["applicant"].pop("relation")
    ru = error_of(api.post("/api/v1/applications", json=bad, headers=auth(tokens["portal"], "v-1")),
                  422, "validation_failed")
    assert set(ru["fields"]) == {"child.iin", "applicant.relation", "channel"}
    assert "ИИН" in ru["fields"]["child.iin"][0] and "контрольная" in ru["fields"]["child.iin"][0]
    en = error_of(api.post("/api/v1/applications", json=bad, headers=auth(tokens["portal"], "v-1",
                                                                          **{"Accept-Language": "en"})),
                  422, "validation_failed")
    assert "check (last) digit" in en["fields"]["child.iin"][0]
    kk = error_of(api.post("/api/v1/applications", json=bad, headers=auth(tokens["portal"], "v-1", **{
        "Accept-Language": "kk-KZ,ru;q=0.8"})),
                  422, "validation_failed")
    assert "ЖСН" in kk["fields"]["child.iin"][0]
    # text the database cannot hold is refused beside its field, not a server error
    nul = application(child={"full_name": "Ахметов\x00", "iin": CHILD_IIN, "birth_date": CHILD_BORN.isoformat()})
    error = error_of(api.post("/api/v1/applications", json=nul, headers=auth(tokens["portal"], "v-2")),
                     422, "validation_failed")
    assert list(error["fields"]) == ["child.full_name"]
    assert case_count(product) == 0


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"null", b'"text"', b'{"a": NaN}', b"{" * 100_000,
                                  b"\xff\xfe{}"])
def test_bodies_that_are_not_json_objects_are_bad_requests(
        api: FlaskClient, tokens: dict[str, str], body: bytes) -> None:
    response = api.post("/api/v1/applications", data=body, content_type="application/json",
                        headers=auth(tokens["portal"], "b-1"))
    error_of(response, 400, "bad_request")


def test_oversize_bodies_are_refused_as_json(product: Services, tokens: dict[str, str]) -> None:
    assert _app(product).config["MAX_CONTENT_LENGTH"] >= product.settings.max_attachment_bytes
    api = _app(product, MAX_CONTENT_LENGTH=4096).test_client()
    big = application(child={"full_name": "Я" * 5000, "iin": CHILD_IIN, "birth_date": CHILD_BORN.isoformat()})
    error_of(api.post("/api/v1/applications", json=big, headers=auth(tokens["portal"], "big")),
             413, "payload_too_large")
    assert case_count(product) == 0


def test_cases_belong_to_the_organisations_the_bins_name_and_unknown_bins_are_refused(
        api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    ids = registry(product)
    response = api.post("/api/v1/applications", json=application(provider_bin=SCHOOL_112),
                        headers=auth(tokens["portal"], "bin-1"))
    assert response.status_code == 201, response.get_data(as_text=True)
    filed = api.post("/api/v1/complaints", json=complaint(), headers=auth(tokens["complaints"], "bin-2"))
    assert filed.status_code == 201, filed.get_data(as_text=True)
    with product.uow(write=False) as uow:
        service_case = uow.instances.get(response.get_json()["instance_id"])
        complaint_case = uow.instances.get(filed.get_json()["instance_id"])
    assert service_case is not None and service_case.organisation_id == ids[SCHOOL_112]
    assert complaint_case is not None
    assert (complaint_case.organisation_id, complaint_case.appealed_organisation_id) == (ids[AKIMAT], ids[SCHOOL_25])

    unknown = "990140000001"
    for path, body, scope, field in (
            ("/api/v1/applications", application(provider_bin=unknown), "portal", "provider_bin"),
            ("/api/v1/applications", application(provider_bin=AKIMAT), "portal", "provider_bin"),  # not a school
            ("/api/v1/proactive/conclusions", conclusion(provider_bin=unknown), "is", "provider_bin"),
            ("/api/v1/complaints", complaint(provider_bin=unknown), "complaints", "provider_bin"),
            ("/api/v1/complaints", complaint(addressee_bin=unknown), "complaints", "addressee_bin"),
            ("/api/v1/complaints", complaint(addressee_bin=QUALITY), "complaints", "addressee")):  # another kind
        error = error_of(api.post(path, json=body, headers=auth(tokens[scope], f"unknown-{path}-{field}")),
                         422, "validation_failed")
        assert list(error["fields"]) == [field], (path, error)
    missing = application()
    del missing["provider_bin"]
    error = error_of(api.post("/api/v1/applications", json=missing, headers=auth(tokens["portal"], "bin-3")),
                     422, "validation_failed")
    assert list(error["fields"]) == ["provider_bin"]
    assert case_count(product) == 2


# --- authentication and routing ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_calls_without_a_known_token_are_unauthorised(api: FlaskClient, header: str | None) -> None:
    headers = {"Idempotency-Key": "u-1"} if header is None else {"Authorization": header, "Idempotency-Key": "u-1"}
    for response in (api.post("/api/v1/applications", json=application(), headers=headers),
                     api.get("/api/v1/cases/APP-1", headers=headers),
                     api.post("/api/v1/sms/replies", json={}, headers=headers)):
        error_of(response, 401, "unauthorised")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_is_forbidden(api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    error_of(api.post("/api/v1/applications", json=application(), headers=auth(tokens["reader"], "f-1")),
             403, "forbidden")
    error_of(api.get("/api/v1/cases/APP-1", headers=auth(tokens["sms"])), 403, "forbidden")
    error_of(api.post("/api/v1/complaints", json=complaint(), headers=auth(tokens["portal"])), 403, "forbidden")
    error_of(api.post("/api/v1/proactive/conclusions", json=conclusion(), headers=auth(tokens["sms"])),
             403, "forbidden")
    error_of(api.post("/api/v1/sms/replies", json={}, headers=auth(tokens["is"])), 403, "forbidden")
    assert case_count(product) == 0


def test_unknown_cases_routes_and_methods_are_json(api: FlaskClient, tokens: dict[str, str]) -> None:
    error_of(api.get("/api/v1/cases/APP-NOPE", headers=auth(tokens["reader"])), 404, "not_found")
    error_of(api.get("/api/v1/cases/A%00B", headers=auth(tokens["reader"])), 404, "not_found")
    error_of(api.get("/api/v1/cases/" + "x" * 200, headers=auth(tokens["reader"])), 404, "not_found")
    error_of(api.get("/api/v1/nothing-here"), 404, "not_found")
    response = api.delete("/api/v1/applications")
    error_of(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    # the staff pages keep their HTML error pages
    page = api.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_unexpected_failures_are_json_without_details(
        api: FlaskClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr("service.web.api.find_case", broken)
    response = api.get("/api/v1/cases/APP-1", headers=auth(tokens["reader"]))
    error_of(response, 500, "internal")
    assert "secret detail" not in response.get_data(as_text=True)


# --- the proactive offer and the SMS reply ------------------------------------------------------------------


def test_a_conclusion_starts_an_offer_and_the_sms_consent_starts_the_service(
        api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    started = api.post("/api/v1/proactive/conclusions", json=conclusion(), headers=auth(tokens["is"], "c-1"))
    assert started.status_code == 201, started.get_data(as_text=True)
    offer = started.get_json()
    assert offer["case_number"] == "OFFER-1" and offer["stage"] == "offer_sent"  # §7-1: 24 hours from delivery
    retried = api.post("/api/v1/proactive/conclusions", json=conclusion(), headers=auth(tokens["is"], "c-1"))
    assert retried.status_code == 200 and retried.get_json() == offer
    # the same offer number again, not as a retry, is refused
    error_of(api.post("/api/v1/proactive/conclusions", json=conclusion(), headers=auth(tokens["is"])),
             409, "conflict")

    error_of(api.post("/api/v1/sms/replies", json={"offer_number": "OFFER-9", "phone": PHONE, "consent": True},
                      headers=auth(tokens["sms"])), 404, "not_found")
    error_of(api.post("/api/v1/sms/replies", json={"offer_number": "OFFER-1", "phone": "8701", "consent": "yes"},
                      headers=auth(tokens["sms"])), 422, "validation_failed")

    reply = {"offer_number": "OFFER-1", "phone": PHONE, "consent": True, "text": "Да, согласна"}
    delivered = api.post("/api/v1/sms/replies", json=reply, headers=auth(tokens["sms"], "sms-1"))
    assert delivered.status_code == 202, delivered.get_data(as_text=True)
    assert delivered.get_json() == {"offer_number": "OFFER-1", "outcome": "delivered"}
    repeated = api.post("/api/v1/sms/replies", json=reply, headers=auth(tokens["sms"], "sms-1"))
    assert repeated.status_code == 200 and repeated.get_json()["outcome"] == "duplicate"
    # the offer is over: a further reply has nothing to go to
    error_of(api.post("/api/v1/sms/replies", json=reply, headers=auth(tokens["sms"], "sms-2")), 409, "conflict")

    # consent started the service under the offer's number; that is the case the applicant follows
    case = api.get("/api/v1/cases/OFFER-1", headers=auth(tokens["reader"])).get_json()
    assert case["process"] == "service_delivery" and case["status"] == "running"
    assert case["stage"] == "check_request"  # a proactive request is checked like a portal one
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 2
        service_case = find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery",
                                 business_key="OFFER-1")
        assert service_case is not None
        data = case_data(uow, product.runtime, actor=SYSTEM, instance_id=service_case)
    assert data["request"]["channel"] == "proactive"
    assert data["request"]["consent"] == {"consent": True, "phone": PHONE, "note": "Да, согласна"}


# --- complaints ----------------------------------------------------------------------------------------------


def test_an_electronic_complaint_is_registered_now_and_acknowledged(
        api: FlaskClient, product: Services, tokens: dict[str, str]) -> None:
    filed = api.post("/api/v1/complaints", json=complaint(), headers=auth(tokens["complaints"], "comp-1"))
    assert filed.status_code == 201, filed.get_data(as_text=True)
    created = filed.get_json()
    assert created["case_number"].startswith("COMP-") and created["status"] == "running"
    again = api.post("/api/v1/complaints", json=complaint(), headers=auth(tokens["complaints"], "comp-1"))
    assert again.status_code == 200 and again.get_json() == created
    error_of(api.post("/api/v1/complaints", json=complaint(text="другой"), headers=auth(tokens["complaints"],
                                                                                        "comp-1")), 409, "conflict")
    without_key = api.post("/api/v1/complaints", json=complaint(), headers=auth(tokens["complaints"]))
    assert without_key.status_code == 201 and without_key.get_json()["case_number"] != created["case_number"]

    with product.uow(write=False) as uow:
        filed_data = case_data(uow, product.runtime, actor=SYSTEM, instance_id=created["instance_id"])["complaint"]
    assert filed_data["channel"] == "electronic" and filed_data["registered_at"].endswith("+05:00")
    case = api.get(f"/api/v1/cases/{created['case_number']}", headers=auth(tokens["all"])).get_json()
    assert case["process"] == "complaint_review" and case["stage"] == created["stage"]
    assert {(d["kind"], d["language"]) for d in case["documents"]} == {
        ("complaint_acknowledgement", "kk"), ("complaint_acknowledgement", "ru")}

    missing = complaint()
    del missing["text"]
    error = error_of(api.post("/api/v1/complaints", json=missing, headers=auth(tokens["complaints"])),
                     422, "validation_failed")
    assert list(error["fields"]) == ["text"]


# --- the OpenAPI document -------------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_lists_every_route(api: FlaskClient, product: Services) -> None:
    from openapi_spec_validator import validate

    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    app = api.application
    routes = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.declared_start"
        for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
    }
    # the declared starts are answered by the catch-all, looked up per request
    adapter = app.url_map.bind("localhost")
    for start in product.runtime.declarations.api_starts():
        assert adapter.match(f"/api/v1/{start.path}", method="POST")[0] == "api.declared_start"
        routes.add((f"/api/v1/{start.path}", "post"))
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    # the request schemas are the office forms less what the service fills in itself
    form = json.loads((PROJECT / "forms/service_delivery/service_requested.schema.json").read_text("utf-8"))
    schema = document["components"]["schemas"]["ApplicationRequest"]
    assert set(schema["properties"]) == set(form["properties"]) - {"application_number", "channel", "received_at",
                                                                     "consent"}
    assert schema["properties"]["child"] == form["properties"]["child"]
    assert document == build_document(product.settings.forms_dir, product.runtime.declarations)


# --- property-based: schemathesis against the app on loopback ---------------------------------------------------


def _iin_or_empty(born: date, sex: str, serial: int) -> str:
    try:
        return make_iin(born, sex, serial)
    except ValueError:  # no check digit for this serial
        return ""


#: The operations whose bodies name the organisations a new case belongs to.
_STARTING = ("POST /api/v1/applications", "POST /api/v1/proactive/conclusions", "POST /api/v1/complaints")
#: A registered body of each kind a complaint can be addressed to (the demo registry has these).
_ADDRESSEES = {"local_executive_body": AKIMAT, "quality_authority": QUALITY}


def _name_registered_organisations(body: dict[str, Any]) -> None:
    """Make a generated body name organisations in the registry (random BINs name none, and are refused)."""
    body["provider_bin"] = SCHOOL_25
    if body.get("addressee") in _ADDRESSEES:
        body["addressee_bin"] = _ADDRESSEES[body["addressee"]]


@pytest.fixture
def live_server(product: Services) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(product.settings, product), threaded=True)  # as deployed
    thread = threading.Thread(target=server.serve_forever, name="api-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_generated_requests_never_cause_a_server_error(live_server: str, tokens: dict[str, str]) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error

    schemathesis.openapi.format("iin", st.builds(
        _iin_or_empty, st.dates(date(1950, 1, 1), date(2020, 12, 31)), st.sampled_from(["male", "female"]),
        st.integers(1, 9999)).filter(bool))
    schemathesis.openapi.format("phone", st.from_regex(r"\+7[0-9]{10}", fullmatch=True))
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {tokens['all']}"}
    statuses: Counter[tuple[str, int]] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /api/v1/applications", "GET /api/v1/cases/{case_number}", "POST /api/v1/sms/replies",
        "POST /api/v1/proactive/conclusions", "POST /api/v1/complaints"}

    for operation in operations:
        @given(case=operation.as_strategy(), registered=st.sampled_from([True, False]))
        @settings(max_examples=30, deadline=timedelta(seconds=5), database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: Any, registered: bool) -> None:
            if registered and isinstance(case.body, dict) and case.operation.label in _STARTING:
                _name_registered_organisations(case.body)
            response = case.call_and_validate(base_url=live_server, headers=headers, checks=[not_a_server_error],
                                              timeout=10)
            statuses[(case.operation.label, response.status_code)] += 1

        run()

    sent = sum(statuses.values())
    assert sent >= len(operations) * 10, statuses
    assert not any(status in (401, 403) for _, status in statuses), statuses  # the token was sent and accepted
    assert any(200 <= status < 300 and not label.endswith("openapi.json") for label, status in statuses), statuses


def test_a_fault_in_the_diagram_at_the_start_is_503_process_fault_and_stores_nothing(
        product: Services, api: FlaskClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """No case exists to park: the portal is told to try again later, with the element named, never a 500."""
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("service.domain.package.check_package", broken)
    response = api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"], "k-fault"))
    error = error_of(response, 503, "process_fault")
    assert response.headers["Retry-After"].isdigit()
    assert "ZeroDivisionError" not in error["message"]  # the internals stay in the log
    assert case_count(product) == 0
    monkeypatch.undo()
    retried = api.post("/api/v1/applications", json=application(), headers=auth(tokens["portal"], "k-fault"))
    assert retried.status_code == 201 and case_count(product) == 1  # the same key works once the fault is gone
