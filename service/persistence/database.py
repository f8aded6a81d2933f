"""Connecting to the database: the embedded SQLite file by default, PostgreSQL by URL.

SQLite gets WAL mode, foreign keys and a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so two writers queue instead of failing half-way; PostgreSQL relies on
row locks (``SELECT … FOR UPDATE``, ``SKIP LOCKED`` for the worker).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    # SQLite's own lower() knows only ASCII; names here are Kazakh and Russian (searches use lower()).
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Straight to the driver (every unit of work begins here); its error raised as SQLAlchemy would.
        try:
            connection.connection.dbapi_connection.execute(begin)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(begin, (), exc, sqlite3.Error) from exc

    return engine


#: A pooled server connection unused for longer than this is checked (one ``SELECT 1``) before use.
PING_AFTER_IDLE_SECONDS = 2.0


def _server_engine(url: str) -> Engine:
    """A pooled engine whose connections are pinged before use when they sat idle (a server restart, a cut link).

    Pinging at every checkout (``pool_pre_ping``) costs a round trip per unit of work; a connection
    back in use within :data:`PING_AFTER_IDLE_SECONDS` was answered moments ago. Should the server
    go away in between, the first statement fails, SQLAlchemy discards the pool's connections and
    the use case answers "unavailable" (nothing half-written); the next one connects afresh.
    """
    engine = create_engine(url, pool_size=10, max_overflow=10)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned <= PING_AFTER_IDLE_SECONDS:
            return  # new, or in use moments ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc  # the pool replaces it (up to three times)
        if not alive:
            raise DisconnectionError("the connection did not answer")

    return engine


def _pipeline_supported() -> bool:
    import psycopg  # only a PostgreSQL installation needs the driver loaded

    return bool(psycopg.Pipeline.is_supported())


def driver_url(url: str) -> str:
    """A plain ``postgresql://`` URL spelled for the psycopg 3 driver the product ships."""
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


class Database:
    """The engines and session factories of one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(url, "BEGIN")
        else:
            self.write_engine = _server_engine(url)
            self.read_engine = self.write_engine
        #: Whether statements can be sent in one round trip (PostgreSQL's pipeline mode, libpq 14 or newer).
        self.pipelines = self.dialect == "postgresql" and _pipeline_supported()
        #: Diagram versions known to be stored (committed) in this database.
        self.stored_diagrams: set[str] = set()

    @property
    def supports_skip_locked(self) -> bool:
        """Whether several workers can claim rows side by side (PostgreSQL) or must queue (SQLite)."""
        return self.dialect == "postgresql"

    def connect(self, write: bool = True) -> Connection:
        """A connection from the pool (a unit of work's); a write one takes the write lock when it begins (SQLite)."""
        return (self.write_engine if write else self.read_engine).connect()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
