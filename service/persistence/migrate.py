"""Creating and upgrading the schema with Alembic, from code (the CLI and tests call this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .database import Database

_SCRIPTS = Path(__file__).with_name("migrations")


def _config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default); safe to run again."""
    config = _config(database)
    with database.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory(str(_SCRIPTS)).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """The migration the database is at, or None if it has no schema yet."""
    with database.read_engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
