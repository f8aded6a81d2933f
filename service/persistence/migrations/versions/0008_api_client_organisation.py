"""An API client may be bound to one organisation (a school's or a body's own system).

Revision ID: 0008_api_client_organisation
Revises: 0007_organisations
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_api_client_organisation"
down_revision = "0007_organisations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_api_client_organisation", "organisations", ["organisation_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint("fk_api_client_organisation", type_="foreignkey")
        batch.drop_column("organisation_id")
