"""The ``documents`` table: documents issued to applicants, HTML always, the signed PDF once made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class DocumentRow(Base):
    """One issued document in one language; the HTML is what was issued, the PDF is derived from it."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    business_key: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(300))
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of ``pdf`` (hex), set with it.
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
