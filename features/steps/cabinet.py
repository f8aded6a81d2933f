"""Steps about what the applicant's personal cabinet on egov.kz receives: the documents themselves,
as PDFs signed by the provider, read back as the applicant would read them."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from pytest_bdd import parsers, then

from service.application.outbox import deliver_outbox
from service.bootstrap import Services
from service.documents.render import document_title
from service.domain.documents import DOCUMENT_LANGUAGES
from tests.signatures import pdf_text, signature_of

from . import wording
from .cases import Case


def cabinet_received(product: Services, case: Case, kind: str) -> dict[str, Any]:
    """Deliver the outbox as the worker does; the message the personal cabinet received with ``kind``."""
    deliver_outbox(product.write_uow, product.transports, now=product.now())
    spool = product.settings.instance_dir / "outbox" / "portal_cabinet"
    received = [json.loads(path.read_text("utf-8")) for path in sorted(spool.glob("*.json"))]
    found = [m for m in received if m["business_key"] == case.number and m["payload"].get("document") == kind]
    assert len(found) == 1, f"the personal cabinet received {[m['message'] for m in received]}"
    return found[0]


def signed_by_school(pdf: bytes, product: Services, case: Case) -> bool:
    """Whether the PDF's PAdES signature is intact and made with the key of the case's school."""
    return bool(signature_of(pdf, product.signer.certificate(case.school)).bottom_line)


@then(parsers.re(r"личный кабинет услугополучателя получил (?P<document>.+?): PDF на казахском и русском "
                 r"языках с подписью услугодателя, в русском сказано:"))
def cabinet_got_signed_pdfs(product: Services, case: Case, document: str, datatable: list[list[str]]) -> None:
    """The cabinet's message carries the document in both languages: signed PDFs, hash as sent, text as quoted."""
    kind = wording.document(document).kind
    attached = cabinet_received(product, case, kind)["payload"].get("documents") or []
    assert [d["language"] for d in attached] == list(DOCUMENT_LANGUAGES), f"the cabinet got {attached}"
    texts = {}
    for item in attached:
        pdf = base64.b64decode(item["content_base64"])
        assert item["kind"] == kind and item["content_type"] == "application/pdf"
        assert hashlib.sha256(pdf).hexdigest() == item["sha256"], "the PDF is not the one its hash names"
        assert signed_by_school(pdf, product, case), f"the {item['language']} PDF is not signed by the provider"
        texts[item["language"]] = pdf_text(pdf)
    assert document_title(kind, "kk") in texts["kk"], texts["kk"][:300]
    for line in wording.table_lines(datatable):
        assert " ".join(line.split()) in texts["ru"], f"«{line}» is not in the PDF: {texts['ru'][:600]}"
