"""Helpers shared by tests: instants on real dates, where the test diagrams are, which database."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from pathlib import Path

from service.bootstrap import Services, build_services
from service.config import Settings
from service.domain.time import ALMATY
from service.engine.library import DiagramLibrary
from service.persistence.database import driver_url

DIAGRAMS = Path(__file__).parent / "diagrams"
#: Diagrams that must be refused; kept apart so that tests/diagrams loads cleanly.
HOSTILE = Path(__file__).parent / "hostile"
PROJECT = Path(__file__).parent.parent


def at(text: str) -> datetime:
    """An instant from ISO text with an offset, e.g. at('2026-03-20T17:00+05:00')."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, "test instants carry their offset"
    return value.astimezone(ALMATY)


def pg_url() -> str | None:
    """The PostgreSQL URL the suite runs against (psycopg 3 driver), if ``DATABASE_URL`` names one."""
    url = os.environ.get("DATABASE_URL", "")
    return driver_url(url) if url.startswith("postgresql") else None


def build_test_services(settings: Settings, library: DiagramLibrary) -> Services:
    """The product wired on test diagrams, which have no forms (the real processes are tested with theirs)."""
    built = build_services(settings, library=library)
    built.runtime = dataclasses.replace(built.runtime, forms_dir=None)
    return built


def shipped_services(tmp_path: Path, database_url: str) -> Services:
    """The product as shipped — processes/, forms/, config/provider.toml — on the test database."""
    settings = Settings.from_env({
        "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "no-overrides.toml"),
    }, base=PROJECT)
    return build_services(settings)
