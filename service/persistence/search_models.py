"""The ``case_index`` table: one row per case with what staff search and list it by.

Written in the transaction that writes the case (its number, organisations, status and §8 stage,
and the child and applicant copied from its data), so the case list and the search of the task
list read only this table and ``open_tasks`` through their indexes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class CaseIndexRow(Base):
    """A case as the case list shows it and as search finds it."""

    __tablename__ = "case_index"
    __table_args__ = (
        Index("ix_case_index_org_opened", "organisation_id", "opened_at", "instance_id"),
        Index("ix_case_index_appealed_opened", "appealed_organisation_id", "opened_at", "instance_id"),
        Index("ix_case_index_number", "number_key"),
        Index("ix_case_index_child_iin", "child_iin"),
        Index("ix_case_index_applicant_iin", "applicant_iin"),
        Index("ix_case_index_child_key", "child_key"),
        Index("ix_case_index_applicant_key", "applicant_key"),
    )

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str] = mapped_column(String(120))
    #: The business key in upper case: what a search by number compares with.
    number_key: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    appealed_organisation_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    #: The §8 stage codes the case is at, joined by "+" (empty until it reaches one).
    stage: Mapped[str] = mapped_column(String(200), default="")
    child_name: Mapped[str] = mapped_column(String(200), default="")
    child_key: Mapped[str] = mapped_column(String(200), default="")
    child_iin: Mapped[str] = mapped_column(String(12), default="")
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    applicant_key: Mapped[str] = mapped_column(String(200), default="")
    applicant_iin: Mapped[str] = mapped_column(String(12), default="")
    opened_at: Mapped[datetime]
