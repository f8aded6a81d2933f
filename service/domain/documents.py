"""Documents the service issues to the applicant: which kinds exist, and how a stored one looks.

Every ``document.*`` message a diagram sends becomes one stored document per language (Kazakh
and Russian), kept as HTML; the PDF is rendered on the first download and kept beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

#: The kinds of document, named as in the ``document.<kind>`` messages, with the Rules' paragraph.
DOCUMENT_KINDS: Final[dict[str, str]] = {
    "receipt": "§4: receipt of acceptance of documents (free form)",
    "refusal": "§4 / §5, Appendix 2: reasoned refusal to consider the application further",
    "acceptance_notification": "§5, Appendix 3: notification of acceptance of documents",
    "admission_order": "§7: order on admission to individual free home schooling",
}

#: Every document is issued in each of these languages (state language first).
DOCUMENT_LANGUAGES: Final[tuple[str, ...]] = ("kk", "ru")


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document without its content: what lists of a case's documents show."""

    id: int
    instance_id: int
    business_key: str
    kind: str
    language: str
    title: str
    created_at: datetime
    content_hash: str
    has_pdf: bool


@dataclass(frozen=True)
class StoredDocument:
    """A stored document with its HTML and, once downloaded, its PDF."""

    id: int
    instance_id: int
    business_key: str
    kind: str
    language: str
    title: str
    created_at: datetime
    content_hash: str
    html: str
    pdf: bytes | None
