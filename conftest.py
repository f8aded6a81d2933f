"""Suite-wide setup: the folder the Cucumber JSON report (for `homeschool trace` and CI) is written to."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Create the report folder named by --cucumber-json (a fresh clone has none)."""
    target = config.getoption("cucumber_json_path", default=None)
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
