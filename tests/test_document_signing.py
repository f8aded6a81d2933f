"""Issued documents reach the applicant signed: PAdES signatures that validate against the issuing
key's certificate, the SHA-256 beside the bytes, both languages in the personal-cabinet message,
and the API handing out the very same bytes to a client with the ``cases:documents`` scope only."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.application.documents import document_pdf
from service.application.outbox import deliver_outbox
from service.application.staff import register_api_client
from service.bootstrap import Services
from service.documents.signing import DEMO_KEY, DEMO_SUBJECT, DocumentSigner, SignedBy, write_demo_key
from service.domain.model import OutboxItem
from service.web import create_app

from .signatures import pdf_text, signature_of
from .support import SCHOOL_25, SCHOOL_112, SYSTEM, at, registry
from .test_service_delivery import complete, organise_and_order, request, submit

ACCEPTED_AT = at("2026-03-26T10:00+05:00")


# --- helpers ---------------------------------------------------------------------------------------------


def delivered(product: Services, message: str, later: timedelta = timedelta(0)) -> dict[str, Any]:
    """Deliver the outbox through the product's transports; the spooled personal-cabinet ``message``."""
    result = deliver_outbox(product.write_uow, product.transports, now=product.now() + later)
    assert not result.failed, result.failed
    spool = product.settings.instance_dir / "outbox" / "portal_cabinet"
    found = [json.loads(f.read_text("utf-8")) for f in sorted(spool.glob("*.json"))]
    [sent] = [m for m in found if m["message"] == message]
    return sent


def refused_portal_case(product: Services, number: str = "APP-2026-000123", school: str = SCHOOL_25) -> int:
    case = submit(product, request(number, channel="portal"), school=school)
    complete(product, "office_clerk", case, {
        "decision": "refuse", "extra_reasons": [{"code": "unreliable_data", "note": "ВКК нөмірі сәйкес емес"}],
    }, school=school)
    return case


def client(product: Services, name: str, *scopes: str, organisation: str | None = None) -> dict[str, str]:
    org_id = registry(product)[organisation] if organisation else None
    with product.uow() as uow:
        token = register_api_client(uow, name=name, scopes=scopes, now=product.now(), organisation_id=org_id)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(product: Services) -> FlaskClient:
    return create_app(product.settings, product, TESTING=True).test_client()


# --- the personal cabinet -------------------------------------------------------------------------------


def test_a_portal_refusal_reaches_the_cabinet_signed_in_both_languages(product: Services) -> None:
    case = refused_portal_case(product)
    sent = delivered(product, "portal_cabinet.refusal")

    payload = sent["payload"]
    assert payload["application_number"] == "APP-2026-000123" and payload["document"] == "refusal"
    assert [d["language"] for d in payload["documents"]] == ["kk", "ru"]
    certificate = product.signer.certificate(SCHOOL_25)
    texts = {}
    for document in payload["documents"]:
        pdf = base64.b64decode(document["content_base64"])
        assert pdf.startswith(b"%PDF-") and document["content_type"] == "application/pdf"
        assert document["sha256"] == hashlib.sha256(pdf).hexdigest() and document["size"] == len(pdf)
        assert document["file_name"] == f"APP-2026-000123_refusal_{document['language']}.pdf"
        assert document["url"] == f"/api/v1/cases/APP-2026-000123/documents/{document['id']}"
        status = signature_of(pdf, certificate)
        assert status.bottom_line and status.intact and status.valid and status.trusted, status.pretty_print_details()
        texts[document["language"]] = pdf_text(pdf)
    assert "Мотивированный отказ в дальнейшем рассмотрении заявления" in texts["ru"]
    assert "ВКК нөмірі сәйкес емес" in texts["kk"] and "APP-2026-000123" in texts["kk"]

    # The outbox keeps the diagram's own small payload; the PDFs are kept once, with the document.
    with product.uow(write=False) as uow:
        [row] = [o for o in uow.outbox.listing(instance_id=case) if o.message_name == "portal_cabinet.refusal"]
        stored = [uow.documents.get(d["id"]) for d in payload["documents"]]
    assert row.payload == {"application_number": "APP-2026-000123", "document": "refusal"}
    for document, kept in zip(payload["documents"], stored, strict=True):
        assert kept is not None and kept.pdf is not None
        assert kept.pdf_sha256 == document["sha256"] == hashlib.sha256(kept.pdf).hexdigest()


def test_acceptance_and_order_reach_the_cabinet_and_each_message_carries_its_own_document(
        product: Services) -> None:
    case = submit(product, request(channel="portal"))
    complete(product, "office_clerk", case, {"decision": "accept"}, now=ACCEPTED_AT)
    organise_and_order(product, case)
    notification = delivered(product, "portal_cabinet.acceptance_notification")["payload"]
    order = delivered(product, "portal_cabinet.admission_order")["payload"]
    assert {d["kind"] for d in notification["documents"]} == {"acceptance_notification"}
    assert {d["kind"] for d in order["documents"]} == {"admission_order"}
    ru = base64.b64decode(order["documents"][1]["content_base64"])
    assert "45-ж" in pdf_text(ru) and signature_of(ru, product.signer.certificate(SCHOOL_25)).bottom_line


def test_a_tampered_pdf_no_longer_validates(product: Services) -> None:
    refused_portal_case(product)
    document = delivered(product, "portal_cabinet.refusal")["payload"]["documents"][1]
    pdf = base64.b64decode(document["content_base64"])
    middle = len(pdf) // 3  # inside the pages, well before the signature
    tampered = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:]
    assert signature_of(pdf, product.signer.certificate(SCHOOL_25)).intact
    assert not signature_of(tampered, product.signer.certificate(SCHOOL_25)).intact


def test_an_unusable_key_holds_the_message_with_a_readable_error_and_it_goes_later(
        product: Services, tmp_path: Path) -> None:
    case = refused_portal_case(product)
    broken = tmp_path / "broken.p12"
    broken.write_bytes(b"not a key")
    product.signer.key_file = broken
    result = deliver_outbox(product.write_uow, product.transports, now=product.now())
    [error] = result.failed.values()
    assert "cannot open the signing key" in error and str(broken) in error
    with product.uow(write=False) as uow:
        assert all(d.pdf_sha256 is None for d in uow.documents.for_instance(case))  # nothing unsigned kept
        [held] = [o for o in uow.outbox.listing(instance_id=case) if o.channel == "portal_cabinet"]
    assert held.delivered_at is None and held.last_error == error
    product.signer.key_file = None  # the operator mends the setting: the retry goes
    assert delivered(product, "portal_cabinet.refusal", later=timedelta(minutes=5))["payload"]["documents"]


# --- the keys --------------------------------------------------------------------------------------------


def test_the_demo_key_is_made_once_for_the_owner_only(product: Services) -> None:
    signer = product.signer
    path = product.settings.instance_dir / DEMO_KEY
    assert not path.exists()  # nothing is generated before a document is signed
    first = signer.certificate()
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    again = DocumentSigner(None, "", None, product.settings.instance_dir).certificate()
    assert first == again and DEMO_SUBJECT in first.subject.rfc4514_string()


def test_a_configured_key_and_an_organisations_own_key_sign(tmp_path: Path) -> None:
    installation, own = tmp_path / "installation.p12", tmp_path / "keys" / f"{SCHOOL_112}.p12"
    write_demo_key(installation, b"secret")
    write_demo_key(own, b"secret")
    signer = DocumentSigner(installation, "secret", tmp_path / "keys", tmp_path / "instance")
    assert signer.key_path(SCHOOL_112) == own and signer.key_path(SCHOOL_25) == installation
    assert signer.key_path("../../etc/x") == installation  # only a BIN names a file
    from service.documents.render import render_pdf
    pdf = render_pdf("<p>Тест</p>")
    for bin_ in (SCHOOL_25, SCHOOL_112):
        signed = signer.sign(pdf, SignedBy(bin_, "Школа", "г. Алматы", "Документ"))
        assert signature_of(signed, signer.certificate(bin_)).bottom_line
        other = SCHOOL_112 if bin_ == SCHOOL_25 else SCHOOL_25
        assert not signature_of(signed, signer.certificate(other)).trusted
    assert not (tmp_path / "instance").exists()  # no demo key when a key is configured


# --- the API ---------------------------------------------------------------------------------------------


def test_the_api_lists_each_document_and_hands_out_the_bytes_the_cabinet_got(
        product: Services, api: FlaskClient) -> None:
    refused_portal_case(product)
    sent = {d["id"]: d for d in delivered(product, "portal_cabinet.refusal")["payload"]["documents"]}
    listing = api.get("/api/v1/cases/APP-2026-000123", headers=client(product, "reader", "cases:read"))
    assert listing.status_code == 200
    listed = [d for d in listing.get_json()["documents"] if d["kind"] == "refusal"]
    assert [(d["id"], d["language"], d["sha256"], d["url"]) for d in listed] == [
        (i, d["language"], d["sha256"], d["url"]) for i, d in sent.items()]
    assert all(d["title"].startswith("Мотивированный") or d["language"] == "kk" for d in listed)

    portal = client(product, "portal", "cases:documents")
    for document in listed:
        response = api.get(document["url"], headers=portal)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        body = response.get_data()
        assert body == base64.b64decode(sent[document["id"]]["content_base64"])
        assert response.headers["ETag"] == f'"{document["sha256"]}"'
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"
        assert f'filename="APP-2026-000123_refusal_{document["language"]}.pdf"' in response.headers[
            "Content-Disposition"]


def test_a_document_not_yet_delivered_is_made_signed_on_download_and_kept(
        product: Services, api: FlaskClient) -> None:
    refused_portal_case(product)
    portal = client(product, "portal", "cases:read", "cases:documents")
    [kk, ru] = [d for d in api.get("/api/v1/cases/APP-2026-000123", headers=portal).get_json()["documents"]
                if d["kind"] == "refusal"]
    assert kk["sha256"] is None  # not made yet
    first = api.get(ru["url"], headers=portal).get_data()
    assert signature_of(first, product.signer.certificate(SCHOOL_25)).bottom_line
    assert api.get(ru["url"], headers=portal).get_data() == first
    staff = document_pdf(product.uow, product.runtime, product.signer, actor=SYSTEM, document_id=ru["id"])
    assert staff.pdf == first
    assert delivered(product, "portal_cabinet.refusal")["payload"]["documents"][1]["sha256"] == staff.sha256


def test_downloading_needs_the_documents_scope(product: Services, api: FlaskClient) -> None:
    refused_portal_case(product)
    url = "/api/v1/cases/APP-2026-000123/documents/2"
    response = api.get(url, headers=client(product, "reader", "cases:read"))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert api.get(url).status_code == 401
    assert api.get(url, headers=client(product, "portal", "cases:documents")).status_code == 200


def test_other_organisations_cases_and_unknown_ids_are_not_found(product: Services, api: FlaskClient) -> None:
    refused_portal_case(product)  # school № 25: documents 1 and 2
    refused_portal_case(product, "APP-2026-000124", school=SCHOOL_112)  # school № 112: documents 3 and 4
    school_112 = client(product, "school-112", "cases:documents", organisation=SCHOOL_112)
    own = client(product, "school-25", "cases:documents", organisation=SCHOOL_25)
    assert api.get("/api/v1/cases/APP-2026-000124/documents/3", headers=school_112).status_code == 200
    for path, headers in (
            ("/api/v1/cases/APP-2026-000123/documents/1", school_112),  # another organisation's case
            ("/api/v1/cases/APP-2026-000123/documents/3", own),  # a document of another case
            ("/api/v1/cases/APP-2026-000123/documents/999999", own),
            ("/api/v1/cases/APP-2026-000123/documents/0", own),
            (f"/api/v1/cases/APP-2026-000123/documents/{2**70}", own),
            ("/api/v1/cases/APP-NOPE/documents/1", own),
            ("/api/v1/cases/A%00B/documents/1", own)):
        response = api.get(path, headers=headers)
        assert response.status_code == 404, (path, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "not_found"


def test_a_message_naming_no_document_is_sent_as_it_is(product: Services) -> None:
    from service.application.documents import attach_documents

    item = OutboxItem(1, "portal_cabinet", "portal_cabinet.note", "k", None, None, {"text": "x"}, 0)
    assert attach_documents(product.uow, product.runtime, product.signer, item) is item


# --- the upgrade ------------------------------------------------------------------------------------------


def test_the_upgrade_records_the_hash_of_pdfs_made_before_it(tmp_path: Path) -> None:
    from sqlalchemy import text

    from service.persistence import migrate
    from service.persistence.database import Database
    from service.persistence.uow import UnitOfWork

    database = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        migrate.upgrade(database, "0008_api_client_organisation")
        now = at("2026-03-20T17:00+05:00")
        with UnitOfWork(database) as uow:
            uow.diagrams.ensure("d" * 64, "service_delivery", "service_delivery.bpmn", b"<bpmn/>", now)
            # the case as the schema of 0008 holds it (today's repository writes columns added since)
            case = 1
            uow.session.execute(text(
                "INSERT INTO process_instances (id, process_id, business_key, diagram_hash, status, state, "
                "serializer_version, version, created_at, updated_at) VALUES (:id, 'service_delivery', 'APP-1', "
                ":hash, 'running', '{}', '1.5', 0, :at, :at)"), {"id": case, "hash": "d" * 64, "at": now.isoformat()})
            for number, pdf in ((1, b"%PDF-made-before"), (2, None)):
                uow.session.execute(text(
                    "INSERT INTO documents (id, instance_id, business_key, kind, language, title, html, pdf, "
                    "created_at, content_hash) VALUES (:id, :case, 'APP-1', 'receipt', 'kk', 't', '<p/>', :pdf, "
                    ":at, 'h')"), {"id": number, "case": case, "pdf": pdf, "at": now.isoformat()})
            uow.commit()
        migrate.upgrade(database)
        with UnitOfWork(database, write=False) as uow:
            made, not_made = uow.documents.get(1), uow.documents.get(2)
        assert made is not None and made.pdf == b"%PDF-made-before"
        assert made.pdf_sha256 == hashlib.sha256(b"%PDF-made-before").hexdigest()
        assert not_made is not None and not_made.pdf is None and not_made.pdf_sha256 is None
    finally:
        database.dispose()
