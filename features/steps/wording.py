"""How the features say things — dates, roles, documents, languages — and how steps read them back.

A moment is written the way a Russian-speaking clerk would say it: «в пятницу 20 марта 2026 года
в 17:00», «до пятницы 27 марта 2026 года, 18:30», «суббота 21 марта 2026 года, 17:01». The
weekday is optional, but when it is given it must be the right one, so a feature cannot put
Nauryz on the wrong day of the week unnoticed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from service.domain.time import ALMATY

MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")

#: Weekday (Monday = 0) → the forms it takes after «в», «до» or on its own.
WEEKDAYS: dict[int, tuple[str, ...]] = {
    0: ("понедельник", "понедельника"),
    1: ("вторник", "вторника"),
    2: ("среда", "среду", "среды"),
    3: ("четверг", "четверга"),
    4: ("пятница", "пятницу", "пятницы"),
    5: ("суббота", "субботу", "субботы"),
    6: ("воскресенье", "воскресенья"),
}

_DATE = re.compile(
    r"(?:(?:в|во|до)\s+)?(?:(?P<weekday>[а-яё]+)\s+)?(?P<day>\d{1,2})\s+(?P<month>[а-яё]+)\s+(?P<year>\d{4})\s+года"
    r"(?:,?\s+(?:в\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
)


def _parse(text: str) -> tuple[date, time | None]:
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"«{text}» is not a date like «в пятницу 20 марта 2026 года в 17:00»")
    if match["month"] not in MONTHS:
        raise ValueError(f"«{text}»: unknown month «{match['month']}»")
    day = date(int(match["year"]), MONTHS.index(match["month"]) + 1, int(match["day"]))
    weekday = match["weekday"]
    if weekday is not None and weekday not in WEEKDAYS[day.weekday()]:
        raise ValueError(f"«{text}»: {day.isoformat()} is a {WEEKDAYS[day.weekday()][0]}, not «{weekday}»")
    at = time(int(match["hour"]), int(match["minute"])) if match["hour"] is not None else None
    return day, at


def moment(text: str) -> datetime:
    """An instant in Almaty time from «в пятницу 20 марта 2026 года в 17:00»; the time is required."""
    day, at = _parse(text)
    if at is None:
        raise ValueError(f"«{text}» names a day but no time; steps act at an explicit time")
    return datetime.combine(day, at, tzinfo=ALMATY)


def calendar_day(text: str) -> date:
    """A date from «31 декабря 2026 года» (a weekday may precede it)."""
    day, at = _parse(text)
    if at is not None:
        raise ValueError(f"«{text}» is a date, not a moment")
    return day


def long_date(day: date) -> str:
    """«20 марта 2026 года», as documents print it."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year} года"


#: How features name the staff roles (the BPMN lanes).
ROLES = {
    "руководитель": "head",
    "руководителя": "head",
    "специалист": "specialist",
    "специалиста": "specialist",
    "сотрудник канцелярии": "office_clerk",
    "сотрудника канцелярии": "office_clerk",
}


def role(text: str) -> str:
    """The role key (lane id) for «руководителя», «специалиста», «сотрудника канцелярии»."""
    try:
        return ROLES[text.strip()]
    except KeyError:
        raise ValueError(f"unknown role «{text}»; known: {', '.join(sorted(ROLES))}") from None


@dataclass(frozen=True)
class DocumentName:
    """A document the service issues, as the glossary names it in Russian."""

    kind: str
    title: str  # the official name, as printed on the Russian document
    forms: tuple[str, ...]  # how a sentence refers to it: «расписка», «в расписке», …


DOCUMENTS = (
    DocumentName("receipt", "Расписка о приеме документов", ("расписка", "расписке", "расписку")),
    DocumentName("refusal", "Мотивированный отказ в дальнейшем рассмотрении заявления",
                 ("мотивированный отказ", "мотивированном отказе")),
    DocumentName("acceptance_notification", "Уведомление о приеме документов",
                 ("уведомление о приеме документов", "уведомлении о приеме документов")),
    DocumentName("admission_order", "Приказ о зачислении на индивидуальное бесплатное обучение на дому",
                 ("приказ о зачислении", "приказе о зачислении")),
)


def document(text: str) -> DocumentName:
    """The document named by its official title or by a short form («в расписке», «приказ о зачислении»)."""
    wanted = text.strip().strip("«»").lower()
    for name in DOCUMENTS:
        if wanted == name.title.lower() or wanted in name.forms:
            return name
    raise ValueError(f"unknown document «{text}»; known: {', '.join(d.title for d in DOCUMENTS)}")


#: Languages of documents, as in «на казахском языке».
DOCUMENT_LANGUAGES = {"казахском": "kk", "русском": "ru"}

#: Languages of instruction, as in «казахский язык обучения» (English is there to be refused).
INSTRUCTION_LANGUAGES = {"казахский": "kk", "русский": "ru", "английский": "en"}

#: Documents an applicant hands in, as the package lists them.
PACKAGE_DOCUMENTS = {
    "заявление": "application",
    "заключение ВКК": "vkk_conclusion",
    "документ, удостоверяющий личность": "identity_document",
}


def quoted(text: str) -> list[str]:
    """The «…» items of a list like «заявление», «заключение ВКК» и «…»."""
    return re.findall(r"«(.+?)»(?=,|\s+и\s+|$)", text.strip())


def visible_text(page: str) -> str:
    """What a reader sees of an HTML document: no markup or styles, entities decoded, spaces collapsed."""
    without_style = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", page)
    without_tags = re.sub(r"(?s)<[^>]+>", " ", without_style)
    return " ".join(html.unescape(without_tags).split())


def list_items(page: str, css_class: str) -> list[str]:
    """The visible text of each item of the HTML list ``<ol class="css_class">`` (empty if there is none)."""
    found = re.search(rf'(?s)<ol class="{re.escape(css_class)}">(.*?)</ol>', page)
    if found is None:
        return []
    return [visible_text(item) for item in re.findall(r"(?s)<li>(.*?)</li>", found.group(1))]


def table_lines(datatable: list[list[str]]) -> list[str]:
    """The cells of a one-column table, whitespace-normalised."""
    return [" ".join(" ".join(row).split()) for row in datatable]
