"""Staff notifications: who is told what about which open task, and each person's settings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, and_, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from .models import MembershipRow, OpenTaskRow, StaffUser
from .notification_models import NotifierMark, StaffNotice
from .repositories import Repository

_N: Table = StaffNotice.__table__  # type: ignore[assignment]
_M: Table = NotifierMark.__table__  # type: ignore[assignment]
_S: Table = StaffUser.__table__  # type: ignore[assignment]
_T: Table = OpenTaskRow.__table__  # type: ignore[assignment]
_R: Table = MembershipRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class TaskForNotice:
    """An open task as the notifier sees it: who may do it, and when it is due."""

    task_id: str
    business_key: str
    title: str
    organisation_id: int | None
    lane: str | None
    assignee: str | None
    due_at: datetime | None
    created_at: datetime
    process_id: str = ""
    element_id: str = ""


@dataclass(frozen=True)
class Recipient:
    """A person who wants notifications, with where and how."""

    staff_id: int
    login: str
    full_name: str
    language: str
    email: str
    notify_every: str
    last_digest_at: datetime | None


@dataclass(frozen=True)
class PendingNotice:
    """A notice not yet sent; ``task`` is None when the task has been done meanwhile."""

    staff_id: int
    kind: str
    task_id: str
    task: TaskForNotice | None


_TASK_COLUMNS = (_T.c.task_id, _T.c.business_key, _T.c.title, _T.c.organisation_id, _T.c.lane, _T.c.assignee,
                 _T.c.due_at, _T.c.created_at, _T.c.process_id, _T.c.element_id)
_RECIPIENT_COLUMNS = (_S.c.id, _S.c.login, _S.c.full_name, _S.c.language, _S.c.email, _S.c.notify_every,
                      _S.c.last_digest_at)
_WANTS_MAIL = and_(_S.c.email.is_not(None), _S.c.notify_every != "off", _S.c.active.is_(True))


def _task(row: object) -> TaskForNotice:
    return TaskForNotice(*(getattr(row, c.name) for c in _TASK_COLUMNS))


def _recipient(row: object) -> Recipient:
    values = [getattr(row, c.name) for c in _RECIPIENT_COLUMNS]
    return Recipient(*values)


class NotificationRepository(Repository):
    """Reads open tasks and staff for the notifier; records notices and digests."""

    def claim_mark(self, name: str) -> tuple[bool, datetime | None]:
        """Lock the notifier's mark row (creating it); (claimed, the instant it holds).

        On PostgreSQL another worker holding it makes this (False, None): that worker is notifying.
        """
        query = select(_M.c.at).where(_M.c.name == name).with_for_update(skip_locked=self.skip_locked)
        row = self.session.execute(query).first()
        if row is not None:
            return True, row.at
        exists = self.session.execute(select(_M.c.name).where(_M.c.name == name)).first()
        return exists is None, None

    def set_mark(self, name: str, at: datetime) -> None:
        """Move the mark (insert it the first time)."""
        if self.session.execute(update(_M).where(_M.c.name == name).values(at=at)).rowcount == 0:  # type: ignore[attr-defined]
            self.session.execute(self._insert(_M).on_conflict_do_nothing(index_elements=["name"]),
                                 [{"name": name, "at": at}])

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        dialect = self.session.dialect.name
        return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)

    def tasks_created(self, after: datetime, until: datetime, limit: int) -> list[TaskForNotice]:
        """Open tasks created in (after, until], oldest first."""
        rows = self.session.execute(
            select(*_TASK_COLUMNS).where(_T.c.created_at > after, _T.c.created_at <= until)
            .order_by(_T.c.created_at, _T.c.task_id).limit(limit))
        return [_task(r) for r in rows]

    def tasks_due(self, after: datetime, before: datetime, limit: int) -> list[TaskForNotice]:
        """Open tasks due in [after, before], soonest first (the due-date index)."""
        rows = self.session.execute(
            select(*_TASK_COLUMNS).where(_T.c.due_at >= after, _T.c.due_at <= before)
            .order_by(_T.c.due_at, _T.c.task_id).limit(limit))
        return [_task(r) for r in rows]

    def recipients_for(self, tasks: Sequence[TaskForNotice]) -> dict[str, list[int]]:
        """For each task: the people to tell — its assignee, or everyone holding its lane at its organisation.

        Only people with an e-mail address, notifications on and an active account are listed.
        """
        organisations = {t.organisation_id for t in tasks if t.organisation_id is not None}
        holders: dict[tuple[int, str], list[int]] = {}
        if organisations:
            rows = self.session.execute(
                select(_R.c.staff_id, _R.c.organisation_id, _R.c.roles).join(_S, _S.c.id == _R.c.staff_id)
                .where(_R.c.organisation_id.in_(organisations), _WANTS_MAIL))
            for row in rows:
                for role in filter(None, row.roles.split(",")):
                    holders.setdefault((row.organisation_id, role), []).append(row.staff_id)
        assignees = {t.assignee for t in tasks if t.assignee}
        by_login: dict[str, int] = {}
        if assignees:
            by_login = {r.login: r.id for r in self.session.execute(
                select(_S.c.id, _S.c.login).where(_S.c.login.in_(assignees), _WANTS_MAIL))}
        result: dict[str, list[int]] = {}
        for task in tasks:
            if task.assignee:
                result[task.task_id] = [by_login[task.assignee]] if task.assignee in by_login else []
            elif task.organisation_id is not None and task.lane:
                result[task.task_id] = sorted(set(holders.get((task.organisation_id, task.lane), [])))
            else:
                result[task.task_id] = []
        return result

    def add_notices(self, notices: Iterable[tuple[int, str, str]], now: datetime) -> int:
        """Record (person, task, kind) notices not recorded before; how many were new."""
        rows = [{"staff_id": s, "task_id": t, "kind": k, "noticed_at": now, "sent_at": None}
                for s, t, k in dict.fromkeys(notices)]
        if not rows:
            return 0
        statement = self._insert(_N).on_conflict_do_nothing(index_elements=["staff_id", "task_id", "kind"])
        result = self.session.execute(statement, rows)
        return max(0, int(result.rowcount or 0))  # type: ignore[attr-defined]

    def pending(self, limit: int) -> list[PendingNotice]:
        """Notices not yet sent, by person, with their task as it stands now (None if it is done)."""
        rows = self.session.execute(
            select(_N.c.staff_id, _N.c.kind, _N.c.task_id, *_TASK_COLUMNS[1:])
            .select_from(_N.outerjoin(_T, _T.c.task_id == _N.c.task_id))
            .where(_N.c.sent_at.is_(None)).order_by(_N.c.staff_id, _N.c.noticed_at).limit(limit))
        pending: list[PendingNotice] = []
        for row in rows:
            task = None if row.business_key is None else TaskForNotice(
                row.task_id, row.business_key, row.title, row.organisation_id, row.lane, row.assignee,
                row.due_at, row.created_at, row.process_id, row.element_id)
            pending.append(PendingNotice(row.staff_id, row.kind, row.task_id, task))
        return pending

    def recipients(self, staff_ids: Iterable[int]) -> dict[int, Recipient]:
        """Recipients by id (those who no longer want notifications are left out)."""
        ids = set(staff_ids)
        if not ids:
            return {}
        rows = self.session.execute(select(*_RECIPIENT_COLUMNS).where(_S.c.id.in_(ids), _WANTS_MAIL))
        return {r.id: _recipient(r) for r in rows}

    def mark_sent(self, staff_id: int, notices: Iterable[tuple[str, str]], now: datetime) -> None:
        """Set the sent instant of a person's notices, given as (task, kind)."""
        keys = list(notices)
        if keys:
            self.session.execute(
                update(_N).where(_N.c.staff_id == staff_id, tuple_(_N.c.task_id, _N.c.kind).in_(keys))
                .values(sent_at=now))

    def drop_for_unreachable(self, now: datetime) -> None:
        """Close notices of people who stopped wanting mail (they are never sent later in a burst)."""
        self.session.execute(
            update(_N).where(_N.c.sent_at.is_(None),
                             _N.c.staff_id.in_(select(_S.c.id).where(or_(_S.c.email.is_(None),
                                                                          _S.c.notify_every == "off",
                                                                          _S.c.active.is_(False)))))
            .values(sent_at=now))

    def note_digest(self, staff_id: int, now: datetime) -> None:
        """Remember when a person's last digest went."""
        self.session.execute(update(_S).where(_S.c.id == staff_id).values(last_digest_at=now))

    def settings_of(self, staff_id: int) -> tuple[str | None, str]:
        """A person's notification address and frequency."""
        row = self.session.execute(select(_S.c.email, _S.c.notify_every).where(_S.c.id == staff_id)).one()
        return row.email, row.notify_every

    def change_settings(self, staff_id: int, email: str | None, notify_every: str) -> None:
        """Store a person's notification address and frequency."""
        self.session.execute(update(_S).where(_S.c.id == staff_id).values(email=email, notify_every=notify_every))
