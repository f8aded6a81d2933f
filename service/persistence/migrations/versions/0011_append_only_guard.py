"""The event log refuses TRUNCATE too (PostgreSQL); UPDATE and DELETE were refused since 0001.

A statement-level ``BEFORE TRUNCATE`` trigger raises, so even the table's owner cannot empty the
log without first dropping the trigger — which only the owner may do. Run the service under a role
that does not own the tables (README, "Database roles"), and neither TRUNCATE nor
``ALTER TABLE … DISABLE TRIGGER`` is open to it. SQLite has no TRUNCATE.

Revision ID: 0011_append_only_guard
Revises: 0010_incidents
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011_append_only_guard"
down_revision = "0010_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the TRUNCATE guard on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION event_log_no_truncate() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the event log is append-only: TRUNCATE is refused'; END $$"
    )
    op.execute(
        "CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION event_log_no_truncate()"
    )


def downgrade() -> None:
    """Remove the TRUNCATE guard."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS event_log_no_truncate ON event_log")
    op.execute("DROP FUNCTION IF EXISTS event_log_no_truncate()")
