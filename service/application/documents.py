"""Use cases on issued documents: issue one (both languages) and hand out its PDF.

A ``document.<kind>`` message becomes one stored HTML document per language, in the caller's
transaction (the case and its documents are saved together). The PDF is laid out on the first
download and kept, so later downloads return exactly the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.documents.provider import ProviderInfo
from service.documents.render import document_title, render_html, render_pdf
from service.domain.documents import DOCUMENT_LANGUAGES, StoredDocument
from service.domain.errors import NotFound
from service.domain.organisations import Organisation
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from .access import may_read_case
from .runtime import Runtime, Signatory


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
            title=f"{document_title(kind, language)} № {business_key}", html=html, now=now,
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


def document_pdf(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, document_id: int) -> tuple[str, bytes]:
    """The document as a PDF: ``(file name, bytes)``; rendered and stored on the first call.

    Needs a writing unit of work the first time (it commits the stored PDF). Raises NotFound
    for an unknown document or one this person may not see.
    """
    documents = uow.documents
    stored = readable_document(uow, runtime, actor=actor, document_id=document_id)
    filename = _filename(stored.business_key, stored.kind, stored.language)
    if stored.pdf is not None:
        return filename, stored.pdf
    pdf = render_pdf(stored.html)
    if not documents.set_pdf(document_id, pdf):
        # Someone stored one first: hand out theirs, so every download is the same file.
        again = documents.get(document_id)
        assert again is not None and again.pdf is not None
        return filename, again.pdf
    uow.commit()
    return filename, pdf


def _filename(business_key: str, kind: str, language: str) -> str:
    """A file name safe on every system, e.g. ``APP-2026-000123_refusal_kk.pdf``."""
    safe_key = re.sub(r"[^A-Za-z0-9._-]+", "_", business_key).strip("._") or "document"
    return f"{safe_key}_{kind}_{language}.pdf"
