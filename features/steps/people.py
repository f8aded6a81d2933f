"""Who acts in the features: the organisations of the registry and the named officials working there.

The cases of the features belong to school № 25 (BIN 050140003125) unless a scenario names
another school. A complaint about the school is reviewed by the body it is addressed to: the
school itself, the akimat of its district (the local executive body), an akim, a central state
body, the State Corporation or the authorised body for quality. Each organisation's staff are
named people, as on the demo accounts: the documents they issue carry their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from service.application.organisations import import_registry
from service.bootstrap import Services
from service.domain.staff import Actor, Membership
from service.domain.time import ALMATY
from tests.support import AKIMAT, QUALITY, SCHOOL_25, SCHOOL_112, SYSTEM, registry

#: Reviewing bodies the demo registry lacks (an akim, a central state body, the State Corporation).
REVIEWING_BODIES = Path(__file__).parents[2] / "tests" / "reviewing-bodies.csv"
AKIM, CENTRAL_BODY, STATE_CORPORATION = "050140006615", "220640001232", "160340008804"

#: How the features name an organisation (genitive, as in «руководитель школы № 112») → its BIN.
ORGANISATIONS = {
    "школы № 25": SCHOOL_25,
    "школы № 112": SCHOOL_112,
    "акимата": AKIMAT,
}

#: The body that reviews a complaint, by the complaint's addressee (the provider reviews its own).
REVIEWING_BODY = {
    "local_executive_body": AKIMAT,
    "akim": AKIM,
    "central_state_body": CENTRAL_BODY,
    "state_corporation": STATE_CORPORATION,
    "quality_authority": QUALITY,
}


@dataclass(frozen=True)
class Official:
    """A named member of staff: where they work and the roles they hold there."""

    full_name: str
    login: str
    organisation: str  # BIN
    roles: frozenset[str]


def _official(full_name: str, login: str, organisation: str, *roles: str) -> Official:
    return Official(full_name, login, organisation, frozenset(roles))


#: Everyone who acts in the features. At a school the clerk also registers complaints, and the
#: head considers the complaints about the school's own decisions and reviews those addressed to it.
STAFF = (
    _official("Сәрсенова Әсел Нұрланқызы", "clerk", SCHOOL_25, "office_clerk", "complaint_registrar"),
    _official("Сәрсенбаева Гүлнұр Қайратқызы", "head", SCHOOL_25, "head", "appealed_official", "reviewing_official"),
    _official("Иванова Мария Петровна", "specialist", SCHOOL_25, "specialist"),
    _official("Ким Елена Викторовна", "clerk112", SCHOOL_112, "office_clerk", "complaint_registrar"),
    _official("Ахметов Данияр Серікұлы", "head112", SCHOOL_112, "head", "appealed_official", "reviewing_official"),
    _official("Оспанова Жанар Қанатқызы", "specialist112", SCHOOL_112, "specialist"),
    _official("Омарова Сәуле Бекқызы", "akimat", AKIMAT, "reviewing_official", "complaint_registrar"),
    _official("Есенова Айнұр Болатқызы", "akim", AKIM, "reviewing_official", "complaint_registrar"),
    _official("Тұрсынов Ерболат Әлиұлы", "ministry", CENTRAL_BODY, "reviewing_official", "complaint_registrar"),
    _official("Мұратова Жанна Сабитқызы", "gk", STATE_CORPORATION, "reviewing_official", "complaint_registrar"),
    _official("Серікбаев Арман Қайратұлы", "quality", QUALITY, "reviewing_official", "complaint_registrar"),
)


def load_registry(services: Services) -> None:
    """The demo registry and the reviewing bodies it lacks, in the scenario's database."""
    known = dict(registry(services))
    with services.uow() as uow:
        import_registry(uow, actor=SYSTEM, content=REVIEWING_BODIES.read_bytes(), now=datetime.now(ALMATY))
    with services.uow(write=False) as uow:
        known.update({bin_: org.id for bin_, org in uow.organisations.by_bins(REVIEWING_BODY.values()).items()})
    services.organisation_ids = known  # type: ignore[attr-defined]


def organisation(text: str) -> str:
    """The BIN of an organisation named as in the features («школы № 112»)."""
    try:
        return ORGANISATIONS[text.strip()]
    except KeyError:
        raise ValueError(f"unknown organisation «{text}»; known: {', '.join(ORGANISATIONS)}") from None


def organisation_id(product: Services, bin_: str) -> int:
    """The registry id of the organisation with this BIN."""
    return product.organisation_ids[bin_]  # type: ignore[attr-defined]


def official(organisation_bin: str, role: str) -> Official:
    """The one named official of the organisation who holds ``role`` there."""
    found = [o for o in STAFF if o.organisation == organisation_bin and role in o.roles]
    assert len(found) == 1, f"{len(found)} officials of {organisation_bin} hold the role '{role}'"
    return found[0]


def actor(product: Services, organisation_bin: str, role: str) -> Actor:
    """The official of the organisation holding ``role``, as the use cases see them (all their roles there)."""
    who = official(organisation_bin, role)
    return Actor(login=who.login, full_name=who.full_name,
                 memberships=(Membership(organisation_id(product, organisation_bin), who.roles),))
