"""The task list's indexes also cover its tie-breaker (task id), so no sort step is needed.

Revision ID: 0005_task_list_index_order
Revises: 0004_attachments
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0005_task_list_index_order"
down_revision = "0004_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_open_tasks_lane_created", table_name="open_tasks")
    op.drop_index("ix_open_tasks_assignee_created", table_name="open_tasks")
    op.create_index("ix_open_tasks_lane_created", "open_tasks", ["lane", "created_at", "task_id"])
    op.create_index("ix_open_tasks_assignee_created", "open_tasks", ["assignee", "created_at", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_open_tasks_lane_created", table_name="open_tasks")
    op.drop_index("ix_open_tasks_assignee_created", table_name="open_tasks")
    op.create_index("ix_open_tasks_lane_created", "open_tasks", ["lane", "created_at"])
    op.create_index("ix_open_tasks_assignee_created", "open_tasks", ["assignee", "created_at"])
