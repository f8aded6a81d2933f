"""Fixtures for the browser journeys: the real app served over HTTP, and Debian's chromium.

- ``live_server``: ``service.web.create_app`` on the test database (``database_url``: a SQLite
  file, or a PostgreSQL schema), with the shipped processes, the demo registry of organisations
  and the demo accounts (``service.application.demo``), served by werkzeug in a thread on
  127.0.0.1 and a free port; stopped after the test. CSRF checks and the Secure session cookie
  stay as shipped (chromium keeps Secure cookies for 127.0.0.1).
- ``chromium``: one headless chromium for the session (``/usr/bin/chromium``, never downloaded).
  Missing browser: a failure when ``CI`` is set (CI installs it), else a loud skip.
- ``page``: a fresh browser context per test (own cookies); on failure every open tab is saved
  as a screenshot in ``reports/screenshots/``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from service.application.demo import ensure_demo_accounts
from service.bootstrap import Services, build_services
from service.config import Settings
from service.web import create_app

from ..support import PROJECT, registry

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SCREENSHOTS = PROJECT / "reports" / "screenshots"
#: How long a locator waits before a step fails (the app answers in milliseconds).
STEP_TIMEOUT_MS = 10_000

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@dataclass(frozen=True)
class LiveServer:
    """The running app: its base URL and the services behind it (for checks, not for steps)."""

    url: str
    services: Services


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """The staff web app as shipped, on the test database, served over HTTP in a thread."""
    from werkzeug.serving import make_server

    settings = Settings.from_env({
        "DATABASE_URL": database_url,
        "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "none.toml"),
    }, base=PROJECT)
    services = build_services(settings)  # every shipped process: their access declarations come with them
    registry(services)
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    app = create_app(settings, services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", services)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        services.database.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's headless chromium, launched once for the whole session."""
    if not CHROMIUM.exists():
        reason = f"chromium is not installed: apt-get install chromium (looked for {CHROMIUM})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must install it, the browser journeys cannot run", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so fixtures can tell whether it failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


@pytest.fixture
def page(chromium: Browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A tab in a fresh browser context (its own cookies) opened on the live server."""
    context = chromium.new_context(base_url=live_server.url, locale="ru-RU", timezone_id="Asia/Almaty",
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        if _failed(request):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            for index, opened in enumerate(context.pages):
                try:
                    opened.screenshot(path=str(SCREENSHOTS / f"{stem}-{index}.png"), full_page=True)
                except Exception as exc:  # a crashed tab must not hide the test's own failure
                    print(f"screenshot of tab {index} failed: {exc}")
        context.close()
