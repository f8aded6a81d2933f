"""Initial schema: case state, projections, inbox, outbox, event log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.persistence.models import UtcDateTime

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "diagram_versions",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("process_id", sa.String(120), nullable=False),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_diagram_versions_process_id", "diagram_versions", ["process_id"])
    op.create_table(
        "process_instances",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("process_id", sa.String(120), nullable=False),
        sa.Column("business_key", sa.String(120), nullable=False),
        sa.Column("diagram_hash", sa.String(64), sa.ForeignKey("diagram_versions.content_hash"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("serializer_version", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("process_id", "business_key", name="uq_instance_business_key"),
    )
    op.create_index("ix_process_instances_business_key", "process_instances", ["business_key"])
    op.create_table(
        "open_tasks",
        sa.Column("task_id", sa.String(36), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instances.id"), nullable=False),
        sa.Column("process_id", sa.String(120), nullable=False),
        sa.Column("business_key", sa.String(120), nullable=False),
        sa.Column("element_id", sa.String(120), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("lane", sa.String(120), nullable=True),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("assignee", sa.String(120), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_open_tasks_instance_id", "open_tasks", ["instance_id"])
    op.create_index("ix_open_tasks_lane_created", "open_tasks", ["lane", "created_at"])
    op.create_index("ix_open_tasks_assignee_created", "open_tasks", ["assignee", "created_at"])
    op.create_index("ix_open_tasks_due", "open_tasks", ["due_at"])
    op.create_table(
        "pending_timers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instances.id"), nullable=False),
        sa.Column("element_id", sa.String(120), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("fire_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_pending_timers_instance_id", "pending_timers", ["instance_id"])
    op.create_index("ix_pending_timers_fire_at", "pending_timers", ["fire_at"])
    op.create_table(
        "awaited_messages",
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instances.id"), primary_key=True),
        sa.Column("message_name", sa.String(200), primary_key=True),
        sa.Column("business_key", sa.String(120), nullable=False),
    )
    op.create_index("ix_awaited_name_key", "awaited_messages", ["message_name", "business_key"])
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_name", sa.String(200), nullable=False),
        sa.Column("business_key", sa.String(120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instances.id"), nullable=True),
    )
    op.create_index("ix_inbox_pending", "inbox", ["message_name", "business_key", "delivered_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("message_name", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instances.id"), nullable=True),
        sa.Column("business_key", sa.String(120), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("delivered_to", sa.String(500), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_instance_id", "outbox", ["instance_id"])
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "next_attempt_at"])
    op.create_table(
        "event_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instances.id"), nullable=True),
        sa.Column("business_key", sa.String(120), nullable=True),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("element_id", sa.String(120), nullable=True),
        sa.Column("paragraph", sa.String(60), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_event_log_at", "event_log", ["at"])
    op.create_index("ix_event_log_instance_id", "event_log", ["instance_id"])
    _make_event_log_append_only()


def _make_event_log_append_only() -> None:
    """The event log is evidence: the database itself refuses to change or delete entries."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER event_log_no_{verb.lower()} BEFORE {verb} ON event_log "
                "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION event_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the event log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log "
            "FOR EACH ROW EXECUTE FUNCTION event_log_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS event_log_append_only ON event_log")
        op.execute("DROP FUNCTION IF EXISTS event_log_append_only()")
    for table in ("event_log", "outbox", "inbox", "awaited_messages", "pending_timers", "open_tasks",
                  "process_instances", "diagram_versions"):
        op.drop_table(table)
