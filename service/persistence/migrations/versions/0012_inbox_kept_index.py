"""A partial index on the inbox messages still kept (``delivered_at IS NULL``), by arrival.

The inbox keeps every message ever received; the metrics endpoint counts the kept ones at every
scrape and the operations page lists the oldest. Without this index both read the whole inbox.

Revision ID: 0012_inbox_kept_index
Revises: 0011_append_only_guard
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_inbox_kept_index"
down_revision = "0011_append_only_guard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_kept", "inbox", ["received_at"], sqlite_where=sa.text("delivered_at IS NULL"),
                    postgresql_where=sa.text("delivered_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_inbox_kept", table_name="inbox")
