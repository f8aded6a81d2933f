"""Staff notifications by e-mail: each person's address and digest frequency, and what they were told.

``staff_notices`` holds one row per (person, task, kind) — a task that arrived, is due on the next
working day, or is due today — so nobody is told the same thing twice, whatever the number of
workers; ``notifier_marks`` keeps how far the notifier has read the new tasks.

Revision ID: 0015_staff_notifications
Revises: 0014_case_index
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.persistence.models import UtcDateTime

revision = "0015_staff_notifications"
down_revision = "0014_case_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("notify_every", sa.String(20), nullable=False, server_default="immediate"))
        batch.add_column(sa.Column("last_digest_at", UtcDateTime(), nullable=True))
    op.create_table(
        "staff_notices",
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_users.id"), primary_key=True),
        sa.Column("task_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("noticed_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_staff_notices_pending", "staff_notices", ["sent_at", "staff_id"])
    op.create_table(
        "notifier_marks",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notifier_marks")
    op.drop_index("ix_staff_notices_pending", table_name="staff_notices")
    op.drop_table("staff_notices")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("last_digest_at")
        batch.drop_column("notify_every")
        batch.drop_column("email")
