"""The e-mail that tells a member of staff about their tasks: one layout, its wording per language.

The text is plain (no HTML) and carries no personal data of the applicant or the child: the case
number, the task, when it is due and a link into the service, where need-to-know applies. Its
words are ``mail.*`` in the documents catalogue (Kazakh, Russian and English).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.domain.notifications import DigestLine, NoticeKind, order_lines
from service.domain.time import to_local

from .catalogue import wording
from .render import TEMPLATES, template_gettext

MAIL_LANGUAGES = ("kk", "ru", "en")
_HEADINGS: dict[NoticeKind, str] = {"due_today": "mail.heading.due_today", "due_tomorrow": "mail.heading.due_tomorrow",
                                    "arrived": "mail.heading.arrived"}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined,  # noqa: S701 - plain text
    keep_trailing_newline=True, trim_blocks=False,
)


_LOCALES = {"kk": "kk_KZ", "ru": "ru_RU", "en": "en_GB"}


@dataclass(frozen=True)
class Mail:
    """An e-mail ready for the outbox."""

    to: str
    subject: str
    body: str
    language: str


def task_digest(to: str, name: str, language: str, lines: Sequence[DigestLine], base_url: str) -> Mail:
    """The digest listing ``lines`` for one person, in their language (Russian if it has none)."""
    language = language if language in MAIL_LANGUAGES else "ru"
    words = wording(language)
    base = base_url.rstrip("/")
    ordered = order_lines(list(lines))
    sections = []
    for kind in ("due_today", "due_tomorrow", "arrived"):
        chosen = [line for line in ordered if line.kind == kind]
        if chosen:
            sections.append({"heading": words.text(_HEADINGS[kind]), "lines": [
                {"business_key": line.business_key, "title": line.title, "overdue": line.overdue,
                 "due": _when(line, language), "link": f"{base}/tasks/{line.task_id}"}
                for line in chosen]})
    gettext = template_gettext(words)
    body = _environment.get_template("mail_task_digest.txt").render(
        name=name, sections=sections, settings_link=f"{base}/me/notifications", gettext=gettext, _=gettext)
    subject = words.text("mail.subject", count=len({line.task_id for line in ordered}))
    return Mail(to=to, subject=subject, body=body, language=language)


def _when(line: DigestLine, language: str) -> str:
    if line.due_at is None:
        return ""
    return format_datetime(to_local(line.due_at), "d MMMM y, HH:mm", locale=_LOCALES[language])
