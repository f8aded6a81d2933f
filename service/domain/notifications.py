"""Telling staff by e-mail that work has arrived for them or is about to fall overdue (pure rules).

A member of staff who has given an e-mail address gets a *digest*: one message listing the tasks
that arrived for their role at their organisation, the tasks due on the next working day and the
tasks due today (or already overdue). How often a digest may go is a personal setting
(:data:`FREQUENCIES`). The e-mail carries the case number, the task and its due date — never the
child's name or any medical fact: it leaves the service's protected perimeter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final, Literal

from .calendar import WorkingCalendar
from .errors import InvalidInput
from .time import to_local

Frequency = Literal["off", "immediate", "hourly", "daily"]
#: How often a person's digest may go: never, at the next notifier pass, at most hourly, once a day.
FREQUENCIES: Final[tuple[Frequency, ...]] = ("off", "immediate", "hourly", "daily")
DEFAULT_FREQUENCY: Final[Frequency] = "immediate"
#: A daily digest goes out on the first notifier pass at or after this Almaty time.
DAILY_DIGEST_AT: Final[time] = time(9, 0)

NoticeKind = Literal["arrived", "due_tomorrow", "due_today"]
#: What a digest line says about a task, in the order a digest lists them.
NOTICE_KINDS: Final[tuple[NoticeKind, ...]] = ("due_today", "due_tomorrow", "arrived")

_EMAIL_LENGTH = 254


def parse_frequency(value: str) -> Frequency:
    """A frequency from a form or the CLI; InvalidInput names the accepted values otherwise."""
    for frequency in FREQUENCIES:
        if value == frequency:
            return frequency
    raise InvalidInput(f"unknown notification frequency '{value}': one of {', '.join(FREQUENCIES)}")


def normalise_email(value: str | None) -> str | None:
    """An e-mail address as stored (trimmed), None for an empty one; InvalidInput if it is not one."""
    text = (value or "").strip()
    if not text:
        return None
    local, at, domain = text.rpartition("@")
    if (not at or not local or "." not in domain.strip(".") or len(text) > _EMAIL_LENGTH
            or any(c.isspace() or c in "<>,;\"" for c in text)):
        raise InvalidInput(f"'{text}' is not an e-mail address")
    return text


def digest_due(frequency: Frequency, last_sent: datetime | None, now: datetime) -> bool:
    """Whether a person's next digest may go at ``now``, given when the last one went."""
    if frequency == "off":
        return False
    if frequency == "immediate" or last_sent is None and frequency == "hourly":
        return True
    if frequency == "hourly":
        assert last_sent is not None
        return now - last_sent >= timedelta(hours=1)
    local = to_local(now)
    if local.time() < DAILY_DIGEST_AT:
        return False
    return last_sent is None or to_local(last_sent).date() < local.date()


def reminder(calendar: WorkingCalendar, due_at: datetime | None, now: datetime) -> NoticeKind | None:
    """The reminder a task with this due instant calls for at ``now``, if any.

    One working day before the due date: ``due_tomorrow``. On the due date, and any time after it
    (a worker that was stopped catches up): ``due_today``. Earlier: nothing.
    """
    if due_at is None:
        return None
    left = calendar.working_days_left(now, due_at)
    if left <= 0:
        return "due_today"
    if left == 1:
        return "due_tomorrow"
    return None


@dataclass(frozen=True)
class DigestLine:
    """One task in a digest: why it is listed, the case, the task, when it is due."""

    kind: NoticeKind
    business_key: str
    task_id: str
    title: str
    due_at: datetime | None
    overdue: bool


def order_lines(lines: list[DigestLine]) -> list[DigestLine]:
    """Most urgent first: due today, due tomorrow, then new tasks; by due date, then case number."""
    far = datetime.max.replace(tzinfo=None)
    return sorted(lines, key=lambda line: (NOTICE_KINDS.index(line.kind),
                                           line.due_at.replace(tzinfo=None) if line.due_at else far,
                                           line.business_key))
