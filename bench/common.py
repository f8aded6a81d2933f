"""Shared pieces of the benchmarks: a product wired on a fresh database, results, the report."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from service.bootstrap import Services, build_services
from service.config import Settings
from service.domain.time import ALMATY
from service.persistence import migrate
from service.persistence.database import Database

PROJECT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    """One figure of the table."""

    number: str
    what: str
    measured: str
    target: str
    met: bool | None


def at(text_: str) -> datetime:
    """An instant from ISO text."""
    return datetime.fromisoformat(text_).astimezone(ALMATY)


def progress(message: str) -> None:
    """Progress for long seeding, on stderr-like output that stays readable in CI logs."""
    print(f"  … {message}", flush=True)


@contextlib.contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """A migrated empty database: a temporary SQLite file, or a new schema on the PostgreSQL server."""
    if not url or url.startswith("sqlite"):
        folder = tempfile.mkdtemp(prefix="homeschool-bench-")
        sqlite_url = f"sqlite:///{folder}/bench.sqlite3"
        migrate.upgrade(Database(sqlite_url))
        yield sqlite_url
        return
    base = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    database = Database(scoped)
    migrate.upgrade(database)
    database.dispose()
    try:
        yield scoped
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def product_services(url: str | None) -> Iterator[Services]:
    """The product as shipped (processes/, forms/, provider) on a fresh database."""
    with fresh_database(url) as database_url:
        folder = tempfile.mkdtemp(prefix="homeschool-bench-instance-")
        settings = Settings.from_env({
            "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": folder,
            "HOMESCHOOL_CALENDAR_OVERRIDES": f"{folder}/none.toml",
        }, base=PROJECT)
        services = build_services(settings)
        try:
            yield services
        finally:
            services.database.dispose()


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = "unknown"
    return {
        "date": datetime.now(ALMATY).strftime("%Y-%m-%d %H:%M %z"),
        "commit": commit or "unknown",
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
    }
