"""Telling staff about their tasks by e-mail, through the durable outbox (channel ``mail``).

The worker runs :func:`notify_staff` at most every ``HOMESCHOOL_NOTIFY_SECONDS``. One pass, in one
transaction: (1) notices — for each task created since the last pass, its arrival for everyone who
may do it; for each task due on the next working day or today, the reminder — recorded once per
(person, task, kind); (2) digests — for each person whose frequency allows one now, a single e-mail
listing their pending notices, queued in the outbox and delivered (spool or SMTP) by the outbox
sweep. A notice whose task has been done meanwhile is dropped, not sent. Task titles are given in
the recipient's language by the ``namer`` the worker passes (the names file beside the diagram);
without one, or for an element it does not name, the title stored with the task is used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.documents.mail import task_digest
from service.domain.calendar import WorkingCalendar
from service.domain.errors import NotPermitted
from service.domain.notifications import (
    DigestLine,
    Frequency,
    digest_due,
    normalise_email,
    parse_frequency,
    reminder,
)
from service.domain.staff import Actor
from service.persistence.notification_repository import PendingNotice, Recipient, TaskForNotice
from service.persistence.uow import UnitOfWork

#: (process id, element id, language) → the element's name in that language, or None if unnamed.
TaskNamer = Callable[[str, str, str], str | None]

MARK = "staff_notifier"
#: Tasks committed this long after the instant they were created at are still noticed.
_LATE_COMMIT = timedelta(minutes=10)
#: On the very first pass, only tasks this recent are announced (no flood of the backlog).
_FIRST_LOOK = timedelta(hours=1)
#: Reminders look this far back for tasks already overdue (a worker that was stopped catches up).
_OVERDUE_LOOK = timedelta(days=3)
#: ... and this far ahead for tasks due on the next working day (over the longest holiday run).
_DUE_LOOK = timedelta(days=10)
_BATCH = 2000


@dataclass(frozen=True)
class NotifyReport:
    """What one notifier pass did."""

    noticed: int
    mails: int


def notify_staff(uow_factory: Callable[[], UnitOfWork], calendar: WorkingCalendar, now: datetime,
                 base_url: str, every: timedelta, namer: TaskNamer | None = None) -> NotifyReport | None:
    """One notifier pass if one is due (None if another worker has it or it ran less than ``every`` ago)."""
    with uow_factory() as uow:
        claimed, last = uow.notifications.claim_mark(MARK)
        if not claimed or (last is not None and now - last < every):
            return None
        noticed = _record_notices(uow, calendar, now, last)
        mails = _send_digests(uow, now, base_url, namer)
        uow.notifications.set_mark(MARK, now)
        uow.commit()
    return NotifyReport(noticed=noticed, mails=mails)


def _record_notices(uow: UnitOfWork, calendar: WorkingCalendar, now: datetime, last: datetime | None) -> int:
    repo = uow.notifications
    since = (last - _LATE_COMMIT) if last is not None else now - _FIRST_LOOK
    arrived = repo.tasks_created(since, now, _BATCH)
    due = [t for t in repo.tasks_due(now - _OVERDUE_LOOK, now + _DUE_LOOK, _BATCH)
           if reminder(calendar, t.due_at, now) is not None]
    people = repo.recipients_for(arrived + due)
    notices: list[tuple[int, str, str]] = []
    for task in arrived:
        notices += [(person, task.task_id, "arrived") for person in people.get(task.task_id, [])]
    for task in due:
        kind = reminder(calendar, task.due_at, now)
        assert kind is not None
        notices += [(person, task.task_id, kind) for person in people.get(task.task_id, [])]
    return repo.add_notices(notices, now)


def _send_digests(uow: UnitOfWork, now: datetime, base_url: str, namer: TaskNamer | None) -> int:
    repo = uow.notifications
    repo.drop_for_unreachable(now)
    by_person: dict[int, list[PendingNotice]] = defaultdict(list)
    for notice in repo.pending(_BATCH * 5):
        by_person[notice.staff_id].append(notice)
    recipients = repo.recipients(by_person)
    outbox: list[dict[str, object]] = []
    for staff_id, notices in by_person.items():
        person = recipients.get(staff_id)
        if person is None or not digest_due(parse_frequency(person.notify_every), person.last_digest_at, now):
            continue
        lines = _lines(notices, now, _titles(namer, person.language))
        repo.mark_sent(staff_id, [(n.task_id, n.kind) for n in notices], now)
        if not lines:  # every task was done meanwhile: nothing to say
            continue
        outbox.append(_message(person, lines, now, base_url))
        repo.note_digest(staff_id, now)
    uow.outbox.add_many(outbox, now)
    return len(outbox)


def _titles(namer: TaskNamer | None, language: str) -> Callable[[TaskForNotice], str]:
    """A task's title in ``language``: its element's translated name, else the title stored with it."""
    def title(task: TaskForNotice) -> str:
        named = namer(task.process_id, task.element_id, language) if namer and task.element_id else None
        return named or task.title
    return title


def _lines(notices: list[PendingNotice], now: datetime, title: Callable[[TaskForNotice], str]) -> list[DigestLine]:
    """Digest lines for a person's live notices: a task listed once, under its most urgent reason."""
    best: dict[str, tuple[str, TaskForNotice]] = {}
    rank = {"due_today": 0, "due_tomorrow": 1, "arrived": 2}
    for notice in notices:
        if notice.task is None:
            continue
        held = best.get(notice.task_id)
        if held is None or rank[notice.kind] < rank[held[0]]:
            best[notice.task_id] = (notice.kind, notice.task)
    return [DigestLine(kind=kind, business_key=task.business_key, task_id=task.task_id,  # type: ignore[arg-type]
                       title=title(task), due_at=task.due_at,
                       overdue=task.due_at is not None and task.due_at < now)
            for kind, task in best.values()]


def _message(person: Recipient, lines: list[DigestLine], now: datetime, base_url: str) -> dict[str, object]:
    mail = task_digest(person.email, person.full_name, person.language, lines, base_url)
    return {
        "channel": "mail", "message_name": "mail.task_digest",
        "idempotency_key": f"mail:{person.staff_id}:{now.isoformat()}",
        "instance_id": None, "business_key": None,
        "payload": {"to": mail.to, "subject": mail.subject, "body": mail.body, "language": mail.language},
    }


@dataclass(frozen=True)
class NotificationSettings:
    """A person's notification address and how often they want a digest."""

    email: str | None
    frequency: Frequency


def notification_settings(uow: UnitOfWork, person: Actor) -> NotificationSettings:
    """The signed-in person's own notification settings."""
    email, every = uow.notifications.settings_of(_own_id(person))
    return NotificationSettings(email=email, frequency=parse_frequency(every))


def change_notification_settings(uow: UnitOfWork, person: Actor, email: str | None,
                                 frequency: str) -> NotificationSettings:
    """Change the signed-in person's own settings (InvalidInput names a bad address or frequency)."""
    chosen = NotificationSettings(email=normalise_email(email), frequency=parse_frequency(frequency))
    uow.notifications.change_settings(_own_id(person), chosen.email, chosen.frequency)
    uow.commit()
    return chosen


def _own_id(person: Actor) -> int:
    if not person.is_person or person.id is None:
        raise NotPermitted("only a signed-in member of staff has notification settings")
    return person.id
