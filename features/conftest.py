"""Fixtures for the features: the product as shipped (processes/, forms/) on a fresh test database —
SQLite, or PostgreSQL when DATABASE_URL names one — with the registry of organisations loaded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.bootstrap import Services, build_services
from service.config import Settings
from tests.conftest import database_url  # noqa: F401  (the fixture, re-used as it is)
from tests.support import PROJECT

from .steps.people import load_registry

#: Set by the modeler's run of the features on a candidate version (service/application/feature_runs.py).
CANDIDATE_FOLDERS = ("HOMESCHOOL_PROCESSES_DIR", "HOMESCHOOL_FORMS_DIR")

pytest_plugins = [
    "features.steps.cases",
    "features.steps.tasks",
    "features.steps.deadlines",
    "features.steps.documents",
    "features.steps.messages",
    "features.steps.cabinet",
    "features.steps.complaints",
    "features.steps.court",
    "features.steps.generic",
]


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:  # noqa: F811
    """The product as shipped, on the test database; no calendar overrides, so the public calendar rules."""
    settings = Settings.from_env({
        "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "no-overrides.toml"),
        # a candidate version under test (the modeler's pre-deployment run) names its own folders
        **{name: os.environ[name] for name in CANDIDATE_FOLDERS if os.environ.get(name)},
    }, base=PROJECT)
    services = build_services(settings)
    load_registry(services)
    yield services
    services.database.dispose()
