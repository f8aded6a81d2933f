"""Outbox transports: how a message physically leaves the service.

We cannot reach egov.kz, the SMS gateway or the monitoring information system from here, so a
channel is configured with one of:

* ``https://…`` / ``http://…`` — POST the message as JSON with an ``Idempotency-Key`` header;
  a 2xx answer counts as delivered, anything else is retried with backoff;
* ``spool:/path/to/dir`` — write one JSON file per message (named by its idempotency key,
  written atomically) for an integration bus or an operator to pick up;
* ``smtp://host:port`` / ``smtps://host:port`` (the ``mail`` channel) — send the message's e-mail
  (payload ``to``, ``subject``, ``body``) to an SMTP relay, in clear on loopback or over TLS;
* nothing — the channel is *held*: messages stay in the outbox, undelivered, until one is set.

No transport pretends: "delivered" always means the other side (or the spool) has the message.

Messages to the personal cabinet carry the documents they announce: :class:`WithDocuments` attaches
each language's signed PDF just before sending (the outbox row keeps the diagram's small payload).
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from service.application.documents import DocumentUnavailable
from service.application.outbox import DeliveryFailed, OutboxTransport
from service.domain.model import OutboxItem


def _document(item: OutboxItem) -> dict[str, object]:
    return {
        "channel": item.channel, "message": item.message_name, "idempotency_key": item.idempotency_key,
        "business_key": item.business_key, "payload": item.payload,
    }


class SpoolTransport:
    """Writes each message as a JSON file into a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, item: OutboxItem) -> str:
        """Write the message file (idempotent: the same key overwrites the same file)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", item.idempotency_key) + ".json"
        target = self.directory / name
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".part")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(_document(item), handle, ensure_ascii=False, indent=2, default=str)
            os.replace(tmp, target)
        except OSError as exc:
            raise DeliveryFailed(f"cannot write {target}: {exc}") from exc
        return f"spool:{target}"


class HttpTransport:
    """POSTs each message as JSON to an endpoint, with an Idempotency-Key header."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, item: OutboxItem) -> str:
        """Deliver over HTTP; any non-2xx answer or network error is a failed attempt."""
        body = json.dumps(_document(item), ensure_ascii=False, default=str).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": item.idempotency_key},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"{self.url} answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryFailed(f"{self.url} unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryFailed(f"{self.url} answered {status}")
        return self.url


class SmtpTransport:
    """Sends each ``mail`` message's e-mail through an SMTP relay (``smtps://`` for implicit TLS)."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"mail target '{url}' names no host: smtp://host:port")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.tls else 25)
        self.user, self.password = parts.username, parts.password
        self.sender = sender
        self.timeout = timeout

    def send(self, item: OutboxItem) -> str:
        """Hand the e-mail to the relay; a refusal or a network error is a failed attempt (retried)."""
        message = self.message(item)
        client_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        try:
            with client_class(self.host, self.port, timeout=self.timeout) as client:
                if self.user:
                    client.login(urllib.parse.unquote(self.user), urllib.parse.unquote(self.password or ""))
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"smtp://{self.host}:{self.port}: {exc}") from exc
        return f"smtp://{self.host}:{self.port}/{message['Message-ID']}"

    def message(self, item: OutboxItem) -> EmailMessage:
        """The e-mail of an outbox item (its Message-ID derives from the idempotency key)."""
        payload = item.payload
        if not all(isinstance(payload.get(k), str) and payload.get(k) for k in ("to", "subject", "body")):
            raise DeliveryFailed(f"outbox item {item.id} is not an e-mail (needs to, subject and body)")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = payload["to"]
        message["Subject"] = payload["subject"]
        domain = self.sender.rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid(idstring=re.sub(r"[^A-Za-z0-9.-]", "-", item.idempotency_key),
                                           domain=domain)
        message.set_content(payload["body"])
        return message


class WithDocuments:
    """Sends each message with the documents it names attached (``attach``), through another transport."""

    def __init__(self, transport: OutboxTransport, attach: Callable[[OutboxItem], OutboxItem]) -> None:
        self.transport = transport
        self.attach = attach

    def send(self, item: OutboxItem) -> str:
        """Attach, then send; a document that cannot be attached yet is a failed attempt (retried later)."""
        try:
            complete = self.attach(item)
        except DocumentUnavailable as exc:
            raise DeliveryFailed(str(exc)) from exc
        return self.transport.send(complete)


def build_transport(target: str, mail_from: str = "homeschool@localhost") -> OutboxTransport:
    """A transport from its setting (``spool:DIR``, an http(s) URL, or an smtp(s) URL)."""
    if target.startswith("spool:"):
        return SpoolTransport(Path(target.removeprefix("spool:")))
    if target.startswith(("http://", "https://")):
        return HttpTransport(target)
    if target.startswith(("smtp://", "smtps://")):
        return SmtpTransport(target, mail_from)
    raise ValueError(f"outbox target '{target}' is neither spool:DIR, an http(s) URL nor an smtp(s) URL")


def build_transports(targets: Mapping[str, str], attach: Callable[[OutboxItem], OutboxItem] | None = None,
                     with_documents: tuple[str, ...] = ("portal_cabinet",),
                     mail_from: str = "homeschool@localhost") -> dict[str, OutboxTransport]:
    """Transports for every channel that has a target (channels left empty are held).

    With ``attach``, the channels ``with_documents`` send their messages with the documents attached.
    """
    transports = {channel: build_transport(target, mail_from) for channel, target in targets.items() if target}
    if attach is not None:
        for channel in with_documents:
            if channel in transports:
                transports[channel] = WithDocuments(transports[channel], attach)
    return transports
