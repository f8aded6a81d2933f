"""Creating and upgrading the schema with Alembic, from code (the CLI and tests call this)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from .database import Database, driver_url

_SCRIPTS = Path(__file__).with_name("migrations")


def _config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default); safe to run again."""
    config = _config(database)
    with database.write_engine.connect() as connection:
        sqlite = database.dialect == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            # SQLite changes a table by copying it, dropping the old one and renaming the copy; with
            # foreign keys enforced, dropping a table other rows refer to fails. The switch works only
            # outside a transaction, so it is thrown here, and every reference is checked before commit.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows referring to nothing: {broken[:5]}")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory(str(_SCRIPTS)).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """The migration the database is at, or None if it has no schema yet."""
    with database.read_engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def scratch_schema(server_url: str, prefix: str) -> Iterator[str]:
    """A migrated, empty schema on a PostgreSQL server for one test or benchmark, dropped afterwards.

    Yields a URL whose connections use that schema, so runs never see each other's rows.
    """
    base = driver_url(server_url)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    database = Database(scoped)
    try:
        upgrade(database)
        database.dispose()
        yield scoped
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
