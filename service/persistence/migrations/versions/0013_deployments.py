"""Deployments: a process's diagram, forms and access file stored as one version by content hash.

``deployment_files`` keeps each file's bytes once; ``deployments`` lists a version's files;
``current_deployments`` names the version new cases start on (every web process and worker reads
it every few seconds). Each case records its deployment (``process_instances.deployment_hash``);
cases from before this revision are attached at start-up to a deployment made from their diagram
version and the forms on disk (``service.application.deployments.attach_existing_cases``).

Revision ID: 0013_deployments
Revises: 0012_inbox_kept_index
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.persistence.models import UtcDateTime

revision = "0013_deployments"
down_revision = "0012_inbox_kept_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_files",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "deployments",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("process_id", sa.String(120), nullable=False),
        sa.Column("diagram_hash", sa.String(64), sa.ForeignKey("diagram_versions.content_hash"), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("deployed_at", UtcDateTime(), nullable=False),
        sa.Column("deployed_by", sa.String(120), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_deployments_process_id", "deployments", ["process_id"])
    op.create_table(
        "current_deployments",
        sa.Column("process_id", sa.String(120), primary_key=True),
        sa.Column("deployment_hash", sa.String(64), sa.ForeignKey("deployments.content_hash"), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
    )
    op.add_column("process_instances", sa.Column("deployment_hash", sa.String(64), nullable=True))
    op.create_index("ix_process_instances_deployment_hash", "process_instances", ["deployment_hash"])


def downgrade() -> None:
    op.drop_index("ix_process_instances_deployment_hash", table_name="process_instances")
    with op.batch_alter_table("process_instances") as batch:
        batch.drop_column("deployment_hash")
    op.drop_table("current_deployments")
    op.drop_index("ix_deployments_process_id", table_name="deployments")
    op.drop_table("deployments")
    op.drop_table("deployment_files")
