"""The embedded default's demo: a small registry of organisations and their demo staff.

``make run`` imports ``config/demo-organisations.csv`` (three schools in two regions, a district
education department, an akimat and the authorised body for quality) and creates the accounts
below, so a new user can try every journey, including one school not seeing another's cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from service.domain.notifications import DEFAULT_FREQUENCY
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from .organisations import ImportReport, import_registry
from .staff import hash_password


@dataclass(frozen=True)
class DemoAccount:
    """A demo account as printed for a new user of the embedded default."""

    login: str
    password: str
    full_name: str
    organisation_bin: str
    roles: tuple[str, ...]
    national_admin: bool = False


SCHOOL_25, SCHOOL_112, GYMNASIUM_3 = "050140003125", "050140004113", "030840001150"
DEPARTMENT, AKIMAT, QUALITY = "030840002208", "050140005508", "180740001236"

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("clerk", "clerk-demo-2026", "Сәрсенова Әсел Нұрланқызы", SCHOOL_25,
                ("office_clerk", "complaint_registrar")),
    DemoAccount("head", "head-demo-2026", "Сәрсенбаева Гүлнұр Қайратқызы", SCHOOL_25,
                ("head", "appealed_official", "reviewing_official")),
    DemoAccount("specialist", "specialist-demo-2026", "Иванова Мария Петровна", SCHOOL_25, ("specialist",)),
    DemoAccount("admin25", "admin25-demo-2026", "Бекова Салтанат Ержанқызы", SCHOOL_25, ("administrator",)),
    DemoAccount("clerk112", "clerk112-demo-2026", "Ким Елена Викторовна", SCHOOL_112,
                ("office_clerk", "complaint_registrar")),
    DemoAccount("head112", "head112-demo-2026", "Ахметов Данияр Серікұлы", SCHOOL_112,
                ("head", "appealed_official", "reviewing_official")),
    DemoAccount("specialist112", "specialist112-demo-2026", "Оспанова Жанар Қанатқызы", SCHOOL_112, ("specialist",)),
    DemoAccount("clerk3", "clerk3-demo-2026", "Смағұлова Динара Асқарқызы", GYMNASIUM_3,
                ("office_clerk", "complaint_registrar")),
    DemoAccount("head3", "head3-demo-2026", "Жұмабаева Айгүл Маратқызы", GYMNASIUM_3,
                ("head", "appealed_official", "reviewing_official")),
    DemoAccount("specialist3", "specialist3-demo-2026", "Петренко Ольга Ивановна", GYMNASIUM_3, ("specialist",)),
    DemoAccount("reviewer", "reviewer-demo-2026", "Жақсылықов Ерлан Маратұлы", DEPARTMENT,
                ("reviewing_official", "complaint_registrar")),
    DemoAccount("akimat", "akimat-demo-2026", "Нұрланов Асқар Бекұлы", AKIMAT,
                ("reviewing_official", "complaint_registrar")),
    DemoAccount("quality", "quality-demo-2026", "Жақыпова Дарига Ерланқызы", QUALITY,
                ("reviewing_official", "complaint_registrar")),
    DemoAccount("analyst", "analyst-demo-2026", "Әлиев Тимур Русланұлы", QUALITY, ("analyst",), national_admin=True),
    DemoAccount("legal", "legal-demo-2026", "Омарова Жанна Серікқызы", QUALITY, ("legal",)),
)


def load_demo(uow_factory: Callable[[], UnitOfWork], registry: Path,
              now: datetime) -> tuple[ImportReport, list[DemoAccount]]:
    """Import the demo registry and create the demo accounts that do not exist yet (idempotent)."""
    with uow_factory() as uow:
        report = import_registry(uow, actor=Actor.system("demo"), content=registry.read_bytes(), now=now)
    with uow_factory() as uow:
        ensure_demo_accounts(uow, now)
    return report, list(DEMO_ACCOUNTS)


def ensure_demo_accounts(uow: UnitOfWork, now: datetime, accounts: tuple[DemoAccount, ...] = DEMO_ACCOUNTS) -> None:
    """Create the demo accounts that do not exist yet; their organisations must be in the registry."""
    organisations = uow.organisations.by_bins(account.organisation_bin for account in accounts)
    for account in accounts:
        if uow.staff.by_login(account.login) is not None:
            continue
        organisation = organisations[account.organisation_bin]
        staff_id = uow.staff.add(login=account.login, full_name=account.full_name,
                                 password_hash=hash_password(account.password), language="ru",
                                 national_admin=account.national_admin, now=now)
        uow.memberships.set(staff_id, organisation.id, account.roles)
        # Demo addresses under the reserved .invalid domain: the e-mails land in the mail spool.
        uow.notifications.change_settings(staff_id, f"{account.login}@demo.invalid", DEFAULT_FREQUENCY)
    uow.commit()
