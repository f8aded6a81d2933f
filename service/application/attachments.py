"""Scanned documents handed in with an application: checked by content, stored, downloads logged.

A VKK conclusion is medical, restricted-access data: every download is written to the event log
with who took it and when.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from service.domain.errors import InvalidInput, NotFound
from service.domain.model import EventRecord
from service.persistence.repositories import AttachmentInfo
from service.persistence.uow import UnitOfWork

#: What a file must start with to be what it claims (the name and the browser's word are not trusted).
SIGNATURES: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
#: Attachment kinds holding medical, restricted-access data.
RESTRICTED_KINDS = frozenset({"vkk_conclusion"})


def content_type_of(filename: str, content: bytes, max_bytes: int) -> str:
    """The file's real type (PDF, JPEG or PNG), or InvalidInput saying what is wrong with it."""
    if not content:
        raise InvalidInput(f"'{filename}' is empty")
    if len(content) > max_bytes:
        raise InvalidInput(f"'{filename}' is {len(content):,} bytes; at most {max_bytes:,} are accepted")
    for content_type, signature in SIGNATURES.items():
        if content.startswith(signature):
            return content_type
    raise InvalidInput(f"'{filename}' is not a PDF, JPEG or PNG file")


def attach(uow: UnitOfWork, *, business_key: str, kind: str, filename: str, content: bytes, actor: str,
           now: datetime, max_bytes: int) -> dict[str, object]:
    """Store a checked file with the case (the caller commits); returns its description for the case data."""
    content_type = content_type_of(filename, content, max_bytes)
    digest = hashlib.sha256(content).hexdigest()
    uow.attachments.add(business_key=business_key, kind=kind, filename=filename, content_type=content_type,
                        content=content, sha256=digest, uploaded_by=actor, now=now)
    return {"kind": kind, "filename": filename[:255], "content_type": content_type, "size": len(content)}


def open_attachment(uow: UnitOfWork, attachment_id: int, *, actor: str, now: datetime) -> tuple[AttachmentInfo, bytes]:
    """An attachment's bytes; a download of restricted-access data is logged before it is handed out."""
    found = uow.attachments.content(attachment_id)
    if found is None:
        raise NotFound(f"there is no attachment {attachment_id}")
    info, content = found
    action = "restricted_document_downloaded" if info.kind in RESTRICTED_KINDS else "document_downloaded"
    uow.events.append([EventRecord(
        at=now, actor=actor, action=action, business_key=info.business_key,
        details={"attachment": info.id, "kind": info.kind, "filename": info.filename, "sha256": info.sha256},
    )])
    uow.commit()
    return info, content
