"""The outside systems the service writes to, through the durable outbox."""

from __future__ import annotations

from typing import Final

#: Outbox channels, keyed by the prefix a diagram's message name carries (``sms.offer``).
OUTBOX_CHANNELS: Final[dict[str, str]] = {
    "portal_cabinet": "the applicant's personal cabinet on the e-government portal (egov.kz)",
    "sms": "the SMS gateway (the mobile number registered on the portal)",
    "monitoring": "the information system for monitoring the provision of state services (§8)",
    "mail": "staff e-mail: task notifications (smtp://host:port, smtps://host:port, or a spool)",
}


def outbox_channel(message_name: str) -> str | None:
    """The outbox channel a thrown message goes to, or None if its name names no channel."""
    prefix, dot, rest = message_name.partition(".")
    return prefix if dot and rest and prefix in OUTBOX_CHANNELS else None


#: Message-name prefix of documents the service renders and stores with the case itself.
DOCUMENT_PREFIX = "document."


def document_kind(message_name: str) -> str | None:
    """The document a ``document.<kind>`` message asks the service to issue, if it is one."""
    if message_name.startswith(DOCUMENT_PREFIX) and len(message_name) > len(DOCUMENT_PREFIX):
        return message_name.removeprefix(DOCUMENT_PREFIX)
    return None
