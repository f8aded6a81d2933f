"""The e-mail that tells a member of staff about their tasks: one layout, its wording per language.

The text is plain (no HTML) and carries no personal data of the applicant or the child: the case
number, the task, when it is due and a link into the service, where need-to-know applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.domain.notifications import DigestLine, NoticeKind, order_lines
from service.domain.time import to_local

from .render import TEMPLATES

MAIL_LANGUAGES = ("kk", "ru", "en")

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined,  # noqa: S701 - plain text
    keep_trailing_newline=True, trim_blocks=False,
)


@dataclass(frozen=True)
class Wording:
    """The words of the digest in one language."""

    subject: str
    greeting: str
    headings: dict[NoticeKind, str]
    case: str
    due: str
    overdue: str
    footer: str


WORDING: dict[str, Wording] = {
    "kk": Wording(
        subject="Үйде оқыту: тапсырмаларыңыз ({count})",
        greeting="Сәлеметсіз бе",
        headings={"due_today": "Мерзімі бүгін аяқталады немесе өтіп кетті:",
                  "due_tomorrow": "Мерзімі келесі жұмыс күні аяқталады:",
                  "arrived": "Жаңа тапсырмалар:"},
        case="Іс", due="мерзімі", overdue="мерзімі өтті",
        footer="Хабарламалар баптауы:",
    ),
    "ru": Wording(
        subject="Обучение на дому: ваши задачи ({count})",
        greeting="Здравствуйте",
        headings={"due_today": "Срок истекает сегодня или уже истек:",
                  "due_tomorrow": "Срок истекает в следующий рабочий день:",
                  "arrived": "Новые задачи:"},
        case="Дело", due="срок", overdue="срок истек",
        footer="Настройка уведомлений:",
    ),
    "en": Wording(
        subject="Home schooling: your tasks ({count})",
        greeting="Hello",
        headings={"due_today": "Due today or already overdue:",
                  "due_tomorrow": "Due on the next working day:",
                  "arrived": "New tasks:"},
        case="Case", due="due", overdue="overdue",
        footer="Notification settings:",
    ),
}

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
    language = language if language in WORDING else "ru"
    wording = WORDING[language]
    base = base_url.rstrip("/")
    ordered = order_lines(list(lines))
    sections = []
    for kind in ("due_today", "due_tomorrow", "arrived"):
        chosen = [line for line in ordered if line.kind == kind]
        if chosen:
            sections.append({"heading": wording.headings[kind], "lines": [
                {"business_key": line.business_key, "title": line.title, "overdue": line.overdue,
                 "due": _when(line, language), "link": f"{base}/tasks/{line.task_id}"}
                for line in chosen]})
    body = _environment.get_template("mail_task_digest.txt").render(
        w=wording, name=name, sections=sections, settings_link=f"{base}/me/notifications")
    subject = wording.subject.format(count=len({line.task_id for line in ordered}))
    return Mail(to=to, subject=subject, body=body, language=language)


def _when(line: DigestLine, language: str) -> str:
    if line.due_at is None:
        return ""
    return format_datetime(to_local(line.due_at), "d MMMM y, HH:mm", locale=_LOCALES[language])
