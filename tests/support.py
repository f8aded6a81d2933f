"""Helpers shared by tests: instants on real dates, where the test diagrams are, which database."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from service.application.cases import CaseOwners
from service.application.organisations import import_registry
from service.bootstrap import Services, build_services
from service.config import Settings
from service.domain.staff import Actor, Membership
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
    registry(built)
    return built


def shipped_services(tmp_path: Path, database_url: str, env: Mapping[str, str] | None = None) -> Services:
    """The product as shipped — processes/, forms/, config/provider.toml — on the test database.

    ``env`` adds or overrides settings (e.g. another processes folder).
    """
    settings = Settings.from_env({
        "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "no-overrides.toml"), **(env or {}),
    }, base=PROJECT)
    built = build_services(settings)
    registry(built)
    return built


# --- organisations and people ---------------------------------------------------------------------

#: The demo registry (config/demo-organisations.csv): three schools in two regions, a district
#: education department, an akimat and the authorised body for quality.
REGISTRY = PROJECT / "config" / "demo-organisations.csv"
SCHOOL_25, SCHOOL_112, GYMNASIUM_3 = "050140003125", "050140004113", "030840001150"
DEPARTMENT, AKIMAT, QUALITY = "030840002208", "050140005508", "180740001236"
#: The service itself, acting in tests where no person acts (messages from outside, sweeps).
SYSTEM = Actor.system("test")


def registry(services: Services) -> dict[str, int]:
    """Load the demo registry into the test database (once per services); organisation ids by BIN.

    The fixtures call this before a test runs, so later calls (inside a test's unit of work) touch
    no database.
    """
    known: dict[str, int] | None = getattr(services, "test_registry", None)
    if known is not None:
        return known
    with services.uow() as uow:
        if uow.organisations.count() == 0:
            import_registry(uow, actor=SYSTEM, content=REGISTRY.read_bytes(), now=datetime.now(ALMATY))
    with services.uow(write=False) as uow:
        ids = {bin_: org.id for bin_, org in uow.organisations.by_bins(
            [SCHOOL_25, SCHOOL_112, GYMNASIUM_3, DEPARTMENT, AKIMAT, QUALITY]).items()}
    services.test_registry = ids  # type: ignore[attr-defined]
    return ids


def owners(services: Services, bin_: str = SCHOOL_25, *, appealed: str | None = None) -> CaseOwners:
    """The organisations a test case belongs to (school № 25 unless told)."""
    ids = registry(services)
    return CaseOwners(ids[bin_], appealed_organisation_id=ids[appealed] if appealed else None)


def person(services: Services, *roles: str, bin_: str = SCHOOL_25, login: str | None = None,
           full_name: str | None = None) -> Actor:
    """A member of staff holding ``roles`` in one organisation (not stored: use cases take the actor as given)."""
    org = registry(services)[bin_]
    name = login or "+".join(roles)
    return Actor(login=name, full_name=full_name or f"Test {name}", memberships=(Membership(org, frozenset(roles)),))


def demo_web_client(services: Services, login: str) -> Any:
    """A Flask test client of the product over HTTPS, signed in as the demo account ``login``."""
    from service.application.demo import DEMO_ACCOUNTS, ensure_demo_accounts
    from service.web import create_app

    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    client = create_app(services.settings, services, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    [account] = [account for account in DEMO_ACCOUNTS if account.login == login]
    client.post("/login", data={"login": login, "password": account.password})
    return client


def office_application(number: str, received_at: datetime, child: int = 1) -> dict[str, Any]:
    """A complete office application to SCHOOL_25 (a parent, a child born 2015-04-02 — ``child`` varies
    the child's IIN — a valid VKK conclusion recommending home schooling, every document handed in)."""
    from service.domain.identity import make_iin

    return {
        "application_number": number, "channel": "office", "received_at": received_at.isoformat(),
        "applicant": {"full_name": "Ахметова Айгүл", "relation": "parent",
                      "iin": make_iin(date(1985, 6, 15), "female", 7)},
        "child": {"full_name": "Ахметов Нұрлан", "birth_date": "2015-04-02",
                  "iin": make_iin(date(2015, 4, 2), "male", child)},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion", "identity_document"], "provider_bin": SCHOOL_25,
    }

