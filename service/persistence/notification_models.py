"""Tables of staff notifications: what each person has been (or is to be) told about which task."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class StaffNotice(Base):
    """One thing to tell one person about one task; ``sent_at`` is set when a digest carried it."""

    __tablename__ = "staff_notices"
    __table_args__ = (Index("ix_staff_notices_pending", "sent_at", "staff_id"),)

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    noticed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class NotifierMark(Base):
    """How far the notifier has looked: the newest task creation instant it has handled."""

    __tablename__ = "notifier_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime]
