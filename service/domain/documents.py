"""Documents the service issues to the applicant (and, on a complaint, to the complainant or the
body reviewing it): which kinds exist, and how a stored one looks.

Every ``document.*`` message a diagram sends becomes one stored document per language (Kazakh
and Russian), kept as HTML; the PDF, signed with the issuing organisation's key, is made the first
time it is needed (delivery to the personal cabinet, or a download) and kept beside it.
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
    "complaint_acknowledgement": "§9: the complaint's registration, its review period and deadline",
    "favourable_act_notice": "§9, APPK Art. 91 p.4: a favourable act adopted; the complaint is not forwarded",
    "forwarding_letter": "§9, APPK Art. 91 p.4: the complaint and the administrative case sent to the reviewing body",
    "extension_notice": "§9, Law Art. 25 p.4: the review period extended, with reasons and the new deadline",
    "complaint_decision": "§9, §10, APPK Art. 100 p.5: the decision on the complaint and the right to go to court",
}

#: The kinds issued by the complaint process: made from its ``complaint``, not from an application.
COMPLAINT_DOCUMENT_KINDS: Final[frozenset[str]] = frozenset({
    "complaint_acknowledgement", "favourable_act_notice", "forwarding_letter", "extension_notice",
    "complaint_decision",
})

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
    #: SHA-256 of the stored PDF (hex); None until the PDF is made.
    pdf_sha256: str | None
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
    pdf_sha256: str | None
    html: str
    pdf: bytes | None
