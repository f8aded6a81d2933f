"""The SHA-256 of each document's PDF, so lists and messages give it without reading the file.

Revision ID: 0009_document_pdf_hash
Revises: 0008_api_client_organisation
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0009_document_pdf_hash"
down_revision = "0008_api_client_organisation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("pdf_sha256", sa.String(64), nullable=True))
    documents = sa.table("documents", sa.column("id", sa.Integer), sa.column("pdf", sa.LargeBinary),
                         sa.column("pdf_sha256", sa.String))
    connection = op.get_bind()
    made = connection.execute(sa.select(documents.c.id, documents.c.pdf).where(documents.c.pdf.is_not(None)))
    for document_id, pdf in made.fetchall():  # PDFs made before this revision keep their bytes
        connection.execute(documents.update().where(documents.c.id == document_id)
                           .values(pdf_sha256=hashlib.sha256(bytes(pdf)).hexdigest()))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("pdf_sha256")
