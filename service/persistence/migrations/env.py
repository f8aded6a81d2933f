"""Alembic environment: runs migrations on the connection or URL the product hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from service.persistence.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Migrate using a connection passed in by ``service.persistence.migrate`` or a URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
