"""Issued documents: stored once with their HTML, the signed PDF (and its SHA-256) added once made."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import insert, select, update

from service.domain.documents import DocumentInfo, StoredDocument

from .document_models import DocumentRow
from .repositories import Repository

_INFO_COLUMNS = (
    DocumentRow.id, DocumentRow.instance_id, DocumentRow.business_key, DocumentRow.kind,
    DocumentRow.language, DocumentRow.title, DocumentRow.created_at, DocumentRow.content_hash,
    DocumentRow.pdf_sha256,
)


class DocumentRepository(Repository):
    """The ``documents`` table; lists never load the HTML or PDF."""

    def add(
        self, *, instance_id: int, business_key: str, kind: str, language: str, title: str, html: str,
        now: datetime,
    ) -> int:
        """Store an issued document (its content hash is the SHA-256 of the HTML) and return its id."""
        result = self.session.execute(
            insert(DocumentRow).values(
                instance_id=instance_id, business_key=business_key, kind=kind, language=language,
                title=title[:300], html=html, pdf=None, created_at=now,
                content_hash=hashlib.sha256(html.encode("utf-8")).hexdigest(),
            ).returning(DocumentRow.id)
        )
        return int(result.scalar_one())

    def for_instance(self, instance_id: int) -> list[DocumentInfo]:
        """A case's documents in the order they were issued, without their content."""
        rows = self.session.execute(
            select(*_INFO_COLUMNS, DocumentRow.pdf.is_not(None).label("has_pdf"))
            .where(DocumentRow.instance_id == instance_id)
            .order_by(DocumentRow.id)
        )
        return [DocumentInfo(**{**row._mapping, "has_pdf": bool(row.has_pdf)}) for row in rows]

    def get(self, document_id: int) -> StoredDocument | None:
        """One document with its HTML and (if already rendered) its PDF."""
        row = self.session.execute(
            select(*_INFO_COLUMNS, DocumentRow.html, DocumentRow.pdf).where(DocumentRow.id == document_id)
        ).first()
        if row is None:
            return None
        values = dict(row._mapping)
        if values["pdf"] is not None:
            values["pdf"] = bytes(values["pdf"])  # PostgreSQL hands back a memoryview
        return StoredDocument(**values)

    def set_pdf(self, document_id: int, pdf: bytes) -> bool:
        """Keep the PDF (and its SHA-256) unless one is stored already; True if this one was stored."""
        result = self.session.execute(
            update(DocumentRow)
            .where(DocumentRow.id == document_id, DocumentRow.pdf.is_(None))
            .values(pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
