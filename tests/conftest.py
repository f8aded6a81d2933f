"""Fixtures: a real database (a fresh SQLite file, or a fresh PostgreSQL schema when
``DATABASE_URL`` names a PostgreSQL server), the test diagrams, and services built on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.bootstrap import Services
from service.config import Settings
from service.engine.library import DiagramLibrary
from service.persistence import migrate
from service.persistence.database import Database

from .support import DIAGRAMS, PROJECT, build_test_services, pg_url, shipped_services


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    base = pg_url()
    if base is None:
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        migrate.upgrade(Database(url))
        yield url
        return
    with migrate.scratch_schema(base, "t") as url:
        yield url


@pytest.fixture
def library() -> DiagramLibrary:
    """The test diagrams (not the product's processes/)."""
    lib = DiagramLibrary()
    lib.load_files(sorted(DIAGRAMS.glob("*.bpmn")), base=DIAGRAMS)
    return lib


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings pointing at the test database and a temporary instance folder."""
    env = {
        "DATABASE_URL": database_url,
        "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
        "HOMESCHOOL_PROCESSES_DIR": str(DIAGRAMS),
        "HOMESCHOOL_FORMS_DIR": str(tmp_path / "forms"),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "no-overrides.toml"),
    }
    return Settings.from_env(env, base=PROJECT)


@pytest.fixture
def services(settings: Settings, library: DiagramLibrary) -> Iterator[Services]:
    """The product wired on the test database and test diagrams."""
    built = build_test_services(settings, library)
    yield built
    built.database.dispose()


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product as shipped, on the test database (the public calendar, no overrides)."""
    services = shipped_services(tmp_path, database_url)
    yield services
    services.database.dispose()
