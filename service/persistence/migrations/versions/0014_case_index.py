"""The case index: one row per case with its number, organisations, status, §8 stage and people.

The case list and the search of the task list (by case number, IIN, the start of the child's or
applicant's name) read this table through its indexes instead of the cases' workflow state. Each
step of a case keeps its row current. Cases from before this revision are indexed here with their
number, organisations and status; their people are copied in by ``homeschool db reindex-cases``.

Revision ID: 0014_case_index
Revises: 0013_deployments
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.persistence.models import UtcDateTime

revision = "0014_case_index"
down_revision = "0013_deployments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_index",
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("process_instances.id"), primary_key=True),
        sa.Column("process_id", sa.String(120), nullable=False),
        sa.Column("business_key", sa.String(120), nullable=False),
        sa.Column("number_key", sa.String(120), nullable=False),
        sa.Column("organisation_id", sa.Integer, nullable=True),
        sa.Column("appealed_organisation_id", sa.Integer, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(200), nullable=False),
        sa.Column("child_name", sa.String(200), nullable=False),
        sa.Column("child_key", sa.String(200), nullable=False),
        sa.Column("child_iin", sa.String(12), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("applicant_key", sa.String(200), nullable=False),
        sa.Column("applicant_iin", sa.String(12), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_case_index_org_opened", "case_index", ["organisation_id", "opened_at", "instance_id"])
    op.create_index("ix_case_index_appealed_opened", "case_index",
                    ["appealed_organisation_id", "opened_at", "instance_id"])
    op.create_index("ix_case_index_number", "case_index", ["number_key"])
    op.create_index("ix_case_index_child_iin", "case_index", ["child_iin"])
    op.create_index("ix_case_index_applicant_iin", "case_index", ["applicant_iin"])
    op.create_index("ix_case_index_child_key", "case_index", ["child_key"])
    op.create_index("ix_case_index_applicant_key", "case_index", ["applicant_key"])
    op.execute(
        "INSERT INTO case_index (instance_id, process_id, business_key, number_key, organisation_id, "
        "appealed_organisation_id, status, stage, child_name, child_key, child_iin, applicant_name, "
        "applicant_key, applicant_iin, opened_at) "
        "SELECT id, process_id, business_key, UPPER(business_key), organisation_id, appealed_organisation_id, "
        "status, '', '', '', '', '', '', '', created_at FROM process_instances"
    )


def downgrade() -> None:
    op.drop_table("case_index")
