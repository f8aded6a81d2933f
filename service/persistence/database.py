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
        # A connection kept between units of work (see _Kept) was last used when it was kept.
        record.info["returned_at"] = record.info.pop("kept_since", None) or time.monotonic()

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


#: How many connections a database keeps checked out for the next units of work, per engine.
KEEP_BETWEEN_UNITS = 4


class _Kept:
    """Connections finished units of work handed back, kept for the next one (newest first).

    Taking one is a list pop; the pool's checkout and return (the fairy, the reset's ROLLBACK,
    SQLAlchemy's ``Connection`` built anew) cost more than a short step's statements on SQLite.
    A unit of work always ends its transaction before handing its connection back; one whose
    connection failed closes it instead. A server connection kept longer than
    :data:`PING_AFTER_IDLE_SECONDS` goes back to the pool, whose checkout pings it.
    """

    def __init__(self, engine: Engine, server: bool) -> None:
        self.engine = engine
        self.server = server
        self.idle: list[tuple[Connection, float]] = []
        #: Raised by :meth:`close_all`; a connection taken before it is closed when handed back.
        self.generation = 0

    def take(self) -> Connection:
        """A kept connection, else a new one from the pool."""
        while True:
            try:
                connection, since = self.idle.pop()  # atomic: threads never get the same one
            except IndexError:
                break
            if connection.invalidated or connection.closed:
                connection.close()
                continue
            if connection.info.get("kept_generation") != self.generation:  # handed back as close_all() ran
                _close_for_good(connection)
                continue
            if self.server and time.monotonic() - since > PING_AFTER_IDLE_SECONDS:
                connection.info["kept_since"] = since  # the pool pings it at its next checkout
                connection.close()
                continue
            return connection
        connection = self.engine.connect()
        connection.info["kept_generation"] = self.generation
        return connection

    def give_back(self, connection: Connection) -> None:
        """Keep a connection whose transaction ended; close it if it failed, predates close_all() or is extra."""
        if connection.invalidated or connection.closed:
            connection.close()
        elif connection.info.get("kept_generation") != self.generation:
            _close_for_good(connection)  # its pool was disposed while it was in use
        elif connection.in_transaction() or len(self.idle) >= KEEP_BETWEEN_UNITS:
            connection.close()  # back to the pool (which rolls back what is left)
        else:
            self.idle.append((connection, time.monotonic()))

    def close_all(self) -> None:
        """Close the kept connections; those in use now are closed when handed back."""
        self.generation += 1
        while self.idle:
            try:
                connection, _since = self.idle.pop()
            except IndexError:
                break
            connection.close()


def _close_for_good(connection: Connection) -> None:
    """Close the driver's connection itself (returned to a disposed pool, it would stay open until collected)."""
    connection.invalidate()
    connection.close()


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
        server = self.dialect != "sqlite"
        self._kept = {True: _Kept(self.write_engine, server), False: _Kept(self.read_engine, server)}
        if self.read_engine is self.write_engine:
            self._kept[False] = self._kept[True]

    @property
    def supports_skip_locked(self) -> bool:
        """Whether several workers can claim rows side by side (PostgreSQL) or must queue (SQLite)."""
        return self.dialect == "postgresql"

    def connect(self, write: bool = True) -> Connection:
        """A unit of work's connection (kept from an earlier one, or from the pool); hand it back with :meth:`release`.

        A write one takes the write lock when its transaction begins (SQLite).
        """
        return self._kept[write].take()

    def release(self, connection: Connection, write: bool = True) -> None:
        """Take back a unit of work's connection once its transaction has ended."""
        self._kept[write].give_back(connection)

    def dispose(self) -> None:
        """Close every pooled connection (and those kept between units of work)."""
        self._kept[True].close_all()
        self._kept[False].close_all()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
