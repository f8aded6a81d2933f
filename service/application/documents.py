"""Use cases on issued documents: issue one (both languages), make its signed PDF, hand it out.

A ``document.<kind>`` message becomes one stored HTML document per language, in the caller's
transaction (the case and its documents are saved together). The PDF is laid out and signed with
the issuing organisation's key (PAdES, :mod:`service.documents.signing`) the first time it is
needed — when a personal-cabinet message carries it, or on the first download — and kept with its
SHA-256, so every later delivery and download hands out exactly the same bytes.

Why not at issue time: laying out a page takes about 0.4 s per language, and the issuing step runs
in the case's transaction (on SQLite, holding the database's one write lock). Two languages per
document would hold every other writer for about a second per decision, and a layout failure would
undo the official's decision. Made later, the PDF is laid out outside any transaction, and only
storing it takes a short write.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from service.documents.provider import ProviderInfo
from service.documents.render import document_number, document_title, render_html, render_pdf
from service.documents.signing import DocumentSigner, SignedBy, SigningUnavailable
from service.domain.documents import DOCUMENT_LANGUAGES, DocumentInfo, StoredDocument
from service.domain.errors import NotFound
from service.domain.model import OutboxItem
from service.domain.organisations import Organisation
from service.domain.staff import Actor
from service.persistence.repositories import StoredInstance
from service.persistence.uow import UnitOfWork

from .access import may_read_case
from .process_access import ProcessAccess
from .runtime import Runtime, Signatory

#: Where the integration API hands out a document (``service.web.api`` answers this path).
DOWNLOAD_PATH = "/api/v1/cases/{case_number}/documents/{document_id}"
PDF = "application/pdf"


class UnitsOfWork(Protocol):
    """Opens a unit of work, reading or writing (``Services.uow``)."""

    def __call__(self, write: bool = True) -> UnitOfWork: ...


class DocumentUnavailable(Exception):
    """A document cannot be handed out now: not issued, or the signing key cannot be used."""


@dataclass(frozen=True)
class SignedPdf:
    """A document's signed PDF as it is handed out: the bytes, their SHA-256 and a file name."""

    document_id: int
    instance_id: int
    business_key: str
    kind: str
    language: str
    title: str
    file_name: str
    sha256: str
    pdf: bytes


def issue_document(
    uow: UnitOfWork, *, instance_id: int, business_key: str, kind: str, payload: Mapping[str, Any],
    letterhead: Organisation, signatory: Signatory | None, now: datetime,
) -> list[int]:
    """Render ``kind`` from a ``document.<kind>`` payload in Kazakh and Russian and store both.

    The letterhead is the issuing organisation's; the signature is the official's who acted
    (``signatory``), else what the document prints by default (the head for the provider's acts).
    Returns the new documents' ids (Kazakh first). Does not commit: the caller's use case does,
    so a case never advances without its documents or the other way round. Raises ValueError
    for an unknown kind or a payload the document cannot be made from.
    """
    rendered = []
    for language in DOCUMENT_LANGUAGES:
        context = {**payload, "case_number": business_key, "issued_at": now,
                   "provider": ProviderInfo.from_organisation(letterhead)}
        if signatory is not None:
            position = signatory.position_kk if language == "kk" else signatory.position_ru
            context["official"] = {"full_name": signatory.full_name, "position": position}
        rendered.append((language, render_html(kind, language, context)))
    return [
        uow.documents.add(
            instance_id=instance_id, business_key=business_key, kind=kind, language=language,
            title=f"{document_title(kind, language)} № {document_number(kind, payload, business_key)}", html=html,
            now=now,
        )
        for language, html in rendered
    ]


def readable_document(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, document_id: int) -> StoredDocument:
    """An issued document, if this person may see its case (NotFound otherwise)."""
    stored = uow.documents.get(document_id)
    case = uow.instances.get(stored.instance_id) if stored is not None else None
    if stored is None or case is None or not may_read_case(uow, runtime, actor, case):
        raise NotFound(f"there is no document {document_id}")
    return stored


def document_pdf(uows: UnitsOfWork, runtime: Runtime, signer: DocumentSigner, *, actor: Actor,
                 document_id: int, instance_id: int | None = None) -> SignedPdf:
    """The document's signed PDF, if this person may see its case (and it is of case ``instance_id`` if given).

    Made and stored the first time (see the module's note). Raises NotFound for an unknown
    document, one of another case, or one this person may not see; DocumentUnavailable if the
    signing key cannot be used.
    """
    with uows(write=False) as uow:
        stored = readable_document(uow, runtime, actor=actor, document_id=document_id)
    if instance_id is not None and stored.instance_id != instance_id:
        raise NotFound(f"there is no document {document_id}")
    return signed_pdf(uows, runtime, signer, stored)


def signed_pdf(uows: UnitsOfWork, runtime: Runtime, signer: DocumentSigner, stored: StoredDocument) -> SignedPdf:
    """``stored``'s PDF: the one kept, else laid out and signed now (outside any transaction) and kept."""
    if stored.pdf is not None:
        return _handed_out(stored, stored.pdf)
    with uows(write=False) as uow:
        case = uow.instances.get(stored.instance_id)
        issuer_id = issuing_organisation_id(runtime, case, stored.kind) if case is not None else None
        issuer = uow.organisations.get(issuer_id) if issuer_id is not None else None
    try:
        pdf = signer.sign(render_pdf(stored.html), _signed_by(issuer, stored))
    except SigningUnavailable as exc:
        raise DocumentUnavailable(str(exc)) from exc
    with uows() as uow:
        if uow.documents.set_pdf(stored.id, pdf):
            uow.commit()
            return _handed_out(stored, pdf)
        # Another process kept one first: hand out that one, so every copy is the same file.
        kept = uow.documents.get(stored.id)
    assert kept is not None and kept.pdf is not None
    return _handed_out(kept, kept.pdf)


def issuing_organisation_id(runtime: Runtime, case: StoredInstance, kind: str) -> int | None:
    """The organisation whose letterhead (and key) ``kind`` carries: the appealed one's for its own acts."""
    rules = runtime.access.get(case.process_id) or ProcessAccess(case.process_id)
    return case.appealed_organisation_id if kind in rules.appealed_documents else case.organisation_id


def attach_documents(uows: UnitsOfWork, runtime: Runtime, signer: DocumentSigner, item: OutboxItem) -> OutboxItem:
    """A message naming a ``document`` kind, with that document's signed PDFs in every language attached.

    The document is the case's latest of that kind issued by the time the message was queued (a
    complaint may be extended twice: each notice goes with its own message). Each language gives
    ``id``, ``kind``, ``language``, ``title``, ``file_name``, ``content_type``, ``size``,
    ``sha256``, ``url`` (the API's download path) and ``content_base64``. A message naming no
    document is returned as it is; one whose document is not there raises DocumentUnavailable.
    """
    kind = item.payload.get("document")
    if item.instance_id is None or not isinstance(kind, str):
        return item
    with uows(write=False) as uow:
        issued = _issued_with(uow.documents.for_instance(item.instance_id), kind, item.created_at)
        stored = [document for info in issued if (document := uow.documents.get(info.id)) is not None]
    if len(stored) != len(DOCUMENT_LANGUAGES):
        raise DocumentUnavailable(f"case {item.business_key} has no issued '{kind}' in every language to attach")
    attached = [_attachment(signed_pdf(uows, runtime, signer, document)) for document in stored]
    return replace(item, payload={**item.payload, "documents": attached})


def document_url(business_key: str, document_id: int) -> str:
    """The API path that hands out a document, e.g. ``/api/v1/cases/APP-2026-000123/documents/7``."""
    return DOWNLOAD_PATH.format(case_number=urllib.parse.quote(business_key, safe=""), document_id=document_id)


def _issued_with(documents: list[DocumentInfo], kind: str, queued_at: datetime | None) -> list[DocumentInfo]:
    """The latest document of ``kind`` in each language issued by ``queued_at`` (state language first)."""
    latest: dict[str, DocumentInfo] = {}
    for info in documents:  # oldest first
        if info.kind == kind and (queued_at is None or info.created_at <= queued_at):
            latest[info.language] = info
    return [latest[language] for language in DOCUMENT_LANGUAGES if language in latest]


def _attachment(signed: SignedPdf) -> dict[str, Any]:
    """One language of a document as a personal-cabinet message carries it."""
    return {
        "id": signed.document_id, "kind": signed.kind, "language": signed.language, "title": signed.title,
        "file_name": signed.file_name, "content_type": PDF, "size": len(signed.pdf), "sha256": signed.sha256,
        "url": document_url(signed.business_key, signed.document_id),
        "content_base64": base64.b64encode(signed.pdf).decode("ascii"),
    }


def _signed_by(issuer: Organisation | None, stored: StoredDocument) -> SignedBy:
    """How the signature of ``stored`` names its issuer (in the document's language)."""
    if issuer is None:
        return SignedBy(None, "", reason=stored.title)
    locality = issuer.locality_kk if stored.language == "kk" else issuer.locality_ru
    return SignedBy(issuer.bin, issuer.name(stored.language), location=locality, reason=stored.title)


def _handed_out(stored: StoredDocument, pdf: bytes) -> SignedPdf:
    """The kept PDF with what is handed out beside it."""
    return SignedPdf(
        document_id=stored.id, instance_id=stored.instance_id, business_key=stored.business_key, kind=stored.kind,
        language=stored.language, title=stored.title,
        file_name=_filename(stored.business_key, stored.kind, stored.language),
        sha256=stored.pdf_sha256 or hashlib.sha256(pdf).hexdigest(), pdf=pdf,
    )


def _filename(business_key: str, kind: str, language: str) -> str:
    """A file name safe on every system, e.g. ``APP-2026-000123_refusal_kk.pdf``."""
    safe_key = re.sub(r"[^A-Za-z0-9._-]+", "_", business_key).strip("._") or "document"
    return f"{safe_key}_{kind}_{language}.pdf"
