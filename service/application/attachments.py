"""Scanned documents handed in with an application: checked by content, stored, downloads logged.

A VKK conclusion is medical, restricted-access data: every download is written to the event log
with who took it and when.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from service.domain.errors import InvalidInput, NotFound
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.persistence.repositories import AttachmentInfo, StoredInstance
from service.persistence.uow import UnitOfWork

from .access import may_read_case, may_read_medical
from .runtime import Runtime

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


def attach(uow: UnitOfWork, *, actor: Actor, business_key: str, kind: str, filename: str, content: bytes,
           now: datetime, max_bytes: int) -> dict[str, object]:
    """Store a checked file with the case (the caller commits); returns its description for the case data."""
    content_type = content_type_of(filename, content, max_bytes)
    digest = hashlib.sha256(content).hexdigest()
    uow.attachments.add(business_key=business_key, kind=kind, filename=filename, content_type=content_type,
                        content=content, sha256=digest, uploaded_by=actor.login, now=now)
    return {"kind": kind, "filename": filename[:255], "content_type": content_type, "size": len(content)}


def _case_of(uow: UnitOfWork, runtime: Runtime, actor: Actor, business_key: str) -> StoredInstance | None:
    """The case an attachment was handed in with, if this person may see it."""
    return next((case for case in uow.instances.by_key(business_key) if may_read_case(uow, runtime, actor, case)),
                None)


def case_attachments(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, case: StoredInstance) -> list[AttachmentInfo]:
    """The scans of a case this person may open (medical ones only for roles that need them)."""
    medical = may_read_medical(runtime, actor, case)
    return [info for info in uow.attachments.for_key(case.business_key)
            if medical or info.kind not in RESTRICTED_KINDS]


def open_attachment(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, attachment_id: int,
                    now: datetime) -> tuple[AttachmentInfo, bytes]:
    """An attachment's bytes, if this person may see it; every read is logged with who and why."""
    found = uow.attachments.content(attachment_id)
    case = _case_of(uow, runtime, actor, found[0].business_key) if found else None
    if found is None or case is None:
        raise NotFound(f"there is no attachment {attachment_id}")
    info, content = found
    restricted = info.kind in RESTRICTED_KINDS
    if restricted and not may_read_medical(runtime, actor, case):
        raise NotFound(f"there is no attachment {attachment_id}")
    action = "restricted_document_downloaded" if restricted else "document_downloaded"
    why = sorted(actor.roles_in(case.organisation_id))
    uow.events.append([EventRecord(
        at=now, actor=actor.login, action=action, instance_id=case.id, business_key=info.business_key,
        details={"attachment": info.id, "kind": info.kind, "filename": info.filename, "sha256": info.sha256,
                 "why": f"role: {', '.join(why)}"},
    )])
    uow.commit()
    return info, content
