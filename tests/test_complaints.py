"""The complaint process (§9–§10) end to end on the real diagram, forms and documents.

Dates are real, with the Kazakh calendar (working hours 09:00–18:30). The complaint is registered
on Thursday 19 March 2026 at 10:00; Saturday 21 – Wednesday 25 March are days off (the weekend,
Nauryz 21–23 March and the days moved to 24–25 March). The registration day itself is not counted:

- 3 working days (forwarding, APPK Art. 91 p.4): 20, 26, 27 March → Friday 27 March 18:30;
- 5 working days (review): 20, 26, 27, 30, 31 March → Tuesday 31 March 18:30;
- 15 working days (quality authority): … 10, 13, 14 April → Tuesday 14 April 18:30.

(`homeschool calendar deadline --from 2026-03-19T10:00+05:00 --working-days N` agrees.)

The complaint is about school № 25 and, unless a test says otherwise, addressed to the akimat of
its district (the local executive body); the named officials of each organisation act.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from service.application.cases import complete_task, deliver_message, record_court_appeal
from service.application.forms import MESSAGE_CODES, load_form, validate_submission
from service.application.intake import start_owners
from service.application.organisations import import_registry, parse_registry
from service.application.queries import case_view, list_tasks
from service.application.timers import fire_due_timers
from service.bootstrap import Services, build_services
from service.config import Settings
from service.documents import ProviderInfo, document_title, render_html, render_pdf
from service.domain.documents import COMPLAINT_DOCUMENT_KINDS, DOCUMENT_KINDS
from service.domain.errors import DomainError, FormInvalid, InvalidInput, NotFound, NotPermitted, ScriptError
from service.domain.identity import make_iin
from service.domain.model import EventRecord, TaskSummary
from service.domain.organisations import Organisation
from service.domain.staff import Actor, Membership
from service.domain.time import ALMATY

from .support import AKIMAT, PROJECT, QUALITY, REGISTRY, SCHOOL_25, SCHOOL_112, SYSTEM, at, owners, person, registry

PROCESS = "complaint_review"
NUMBER = "COMP-2026-0007"
COMPLAINANT_IIN = make_iin(date(1985, 6, 15), "female", 7)
REGISTERED = at("2026-03-19T10:00+05:00")  # Thursday, before Nauryz
FORWARDING_DEADLINE = at("2026-03-27T18:30+05:00")
REVIEW_DEADLINE = at("2026-03-31T18:30+05:00")
FORMS = PROJECT / "forms"

#: Reviewing bodies the demo registry lacks (an akim, a central state body, the State Corporation).
REVIEWING_BODIES = Path(__file__).parent / "reviewing-bodies.csv"
AKIM, CENTRAL_BODY, STATE_CORPORATION = "050140006615", "220640001232", "160340008804"
#: The body each addressee of the complaint form stands for (a complaint to the provider is reviewed there).
BODY_OF = {"provider": SCHOOL_25, "local_executive_body": AKIMAT, "akim": AKIM, "central_state_body": CENTRAL_BODY,
           "state_corporation": STATE_CORPORATION, "quality_authority": QUALITY}

#: The named officials who act: (organisation, role) → full name.
STAFF = {
    (SCHOOL_25, "appealed_official"): "Сәрсенбаева Гүлнұр Қайратқызы",
    (SCHOOL_25, "reviewing_official"): "Сәрсенбаева Гүлнұр Қайратқызы",
    (SCHOOL_25, "complaint_registrar"): "Сәрсенова Әсел Нұрланқызы",
    (SCHOOL_112, "complaint_registrar"): "Ким Елена Викторовна",
    (AKIMAT, "reviewing_official"): "Омарова Сәуле Бекқызы",
    (AKIMAT, "complaint_registrar"): "Тоқтарова Алия Мұратқызы",
    **{(body, "reviewing_official"): f"Қарастырушы {body}" for body in (AKIM, CENTRAL_BODY, STATE_CORPORATION,
                                                                         QUALITY)},
    **{(body, "complaint_registrar"): f"Тіркеуші {body}" for body in (AKIM, CENTRAL_BODY, STATE_CORPORATION,
                                                                       QUALITY)},
}


# --- driving the product ---------------------------------------------------------------------


def with_reviewing_bodies(services: Services) -> Services:
    """The demo registry and the reviewing bodies it lacks, in the test database; their ids are remembered."""
    known = dict(registry(services))
    with services.uow() as uow:
        import_registry(uow, actor=SYSTEM, content=REVIEWING_BODIES.read_bytes(), now=datetime.now(ALMATY))
    with services.uow(write=False) as uow:
        known.update({bin_: org.id for bin_, org in uow.organisations.by_bins(BODY_OF.values()).items()})
    services.organisation_ids = known  # type: ignore[attr-defined]
    return services


@pytest.fixture
def make_product(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Services]]:
    """The product as shipped (processes/, forms/), the registry loaded, with optional settings."""
    built: list[Services] = []

    def make(**env: str) -> Services:
        settings = Settings.from_env({
            "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
            "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "none.toml"), **env,
        }, base=PROJECT)
        built.append(with_reviewing_bodies(build_services(settings)))
        return built[-1]

    yield make
    for services in built:
        services.database.dispose()


@pytest.fixture
def product(make_product: Callable[..., Services]) -> Services:
    return make_product()


def official(product: Services, role: str, organisation: str) -> Actor:
    """The named official of ``organisation`` (a BIN) who holds ``role`` there."""
    org_id = product.organisation_ids[organisation]  # type: ignore[attr-defined]
    return Actor(login=f"{role}@{organisation}", full_name=STAFF[(organisation, role)],
                 memberships=(Membership(org_id, frozenset({role})),))


def complaint(**changes: Any) -> dict[str, Any]:
    """A complaint about school № 25 as the registrar's intake form (or the portal) submits it."""
    base: dict[str, Any] = {
        "complaint_number": NUMBER, "channel": "paper", "addressee": "local_executive_body",
        "registered_at": REGISTERED.isoformat(),
        "complainant": {"full_name": "Ахметова Айгүл Серікқызы", "iin": COMPLAINANT_IIN,
                        "address": "050000, Алматы қ., Абай даңғылы, 1, 5-пәтер", "email": "aigul@example.kz",
                        "phone": "+77011234567"},
        "appealed": {"subject": "decision", "description": "Өтінішті одан әрі қараудан бас тарту",
                     "service_case": "APP-2026-000123"},
        "against_provider": False,
        "text": "Бас тартуды жоюды сұраймын.\nДКК қорытындысы қоса берілген.",
        "provider_bin": SCHOOL_25,
    }
    base.update(changes)
    if base["addressee"] != "provider" and base["addressee"] in BODY_OF and "addressee_bin" not in changes:
        base["addressee_bin"] = BODY_OF[base["addressee"]]
    return base


def file_complaint(product: Services, filed: dict[str, Any], now: datetime = REGISTERED) -> int:
    """The complaint is registered where it was handed in: at the school appealed against when it goes
    through the provider (``against_provider``), else at the body it is addressed to."""
    where = SCHOOL_25 if filed["against_provider"] else BODY_OF[filed["addressee"]]
    registrar = official(product, "complaint_registrar", where)
    payload = dict(filed)
    with product.uow() as uow:
        office = uow.organisations.by_bin(where)
        case_owners = start_owners(uow, form=f"{PROCESS}/complaint_filed", payload=payload, registered_at=office)
        receipt = deliver_message(uow, product.runtime, actor=registrar, name="complaint_filed",
                                  business_key=filed["complaint_number"], payload=payload, owners=case_owners,
                                  now=now)
    assert receipt.outcome == "started", receipt
    assert receipt.instance_id is not None
    return receipt.instance_id


def tasks_of(product: Services, role: str, case: int, body: str = AKIMAT) -> list[TaskSummary]:
    """The case's tasks in the task list of the official holding ``role``: the appealed official at
    school № 25, the others at ``body`` (the organisation the complaint is addressed to)."""
    who = official(product, role, SCHOOL_25 if role == "appealed_official" else body)
    with product.uow(write=False) as uow:
        return [t for t in list_tasks(uow, product.runtime, actor=who, role=role).items if t.instance_id == case]


def task_of(product: Services, role: str, case: int, element_id: str, body: str = AKIMAT) -> TaskSummary:
    found = [t for t in tasks_of(product, role, case, body) if t.element_id == element_id]
    assert len(found) == 1, tasks_of(product, role, case, body)
    return found[0]


def complete(product: Services, role: str, case: int, element_id: str, data: dict[str, Any],
             now: datetime, body: str = AKIMAT) -> None:
    task = task_of(product, role, case, element_id, body)
    who = official(product, role, SCHOOL_25 if role == "appealed_official" else body)
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=who, task_id=task.task_id, data=data, now=now)


def fire(product: Services, now: datetime) -> list[int]:
    sweep = fire_due_timers(product.write_uow, product.runtime, now=now)
    assert sweep.failed == {}
    return sweep.fired


def documents(product: Services, case: int) -> list[tuple[str, str]]:
    with product.uow(write=False) as uow:
        return sorted((d.kind, d.language) for d in uow.documents.for_instance(case))


def html_of(product: Services, case: int, kind: str, language: str) -> str:
    """The text of the issued document, markup removed and white space folded, as a reader sees it."""
    with product.uow(write=False) as uow:
        [info] = [d for d in uow.documents.for_instance(case) if d.kind == kind and d.language == language]
        stored = uow.documents.get(info.id)
    assert stored is not None
    return _readable(stored.html)


def _readable(html: str) -> str:
    text = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&nbsp;", " ").replace("&#34;", '"').replace("&#39;", "'").replace("&quot;", '"')
    return " ".join(text.split())


def name_of(product: Services, organisation: str, language: str) -> str:
    """An organisation's name in ``language`` from the registry, as a reader sees it on a document."""
    with product.uow(write=False) as uow:
        found = uow.organisations.by_bin(organisation)
    assert found is not None
    return _readable(str(escape(found.name(language))))


def view(product: Services, case: int):
    with product.uow(write=False) as uow:
        return case_view(uow, product.runtime, actor=SYSTEM, instance_id=case)


def outbox(product: Services, case: int, channel: str) -> list[str]:
    return [o.message_name for o in reversed(view(product, case).outbox) if o.channel == channel]


def history(product: Services, case: int) -> list[EventRecord]:
    return view(product, case).history


def status(product: Services, case: int) -> str:
    return view(product, case).status


def version(product: Services, case: int) -> int:
    return view(product, case).version


def steps(product: Services, case: int) -> dict[str, str | None]:
    """Automatic steps from the event log: element id → the paragraphs it carried out."""
    return {e.element_id: e.paragraph for e in history(product, case) if e.action == "step" and e.element_id}


# --- registration and the review period per addressee ------------------------------------------


FIVE_DAYS = ["provider", "local_executive_body", "akim", "central_state_body", "state_corporation"]


@pytest.mark.parametrize(("addressee", "days", "deadline", "ru_deadline", "kk_deadline"), [
    *[(a, 5, REVIEW_DEADLINE, "31 марта 2026 года, 18:30", "2026 жылғы 31 наурыз, 18:30") for a in FIVE_DAYS],
    ("quality_authority", 15, at("2026-04-14T18:30+05:00"), "14 апреля 2026 года, 18:30",
     "2026 жылғы 14 сәуір, 18:30"),
])
def test_review_deadline_follows_the_addressee(product: Services, addressee: str, days: int, deadline: datetime,
                                               ru_deadline: str, kk_deadline: str) -> None:
    case = file_complaint(product, complaint(addressee=addressee))
    review = task_of(product, "reviewing_official", case, "review_complaint", body=BODY_OF[addressee])
    assert review.due_at == deadline
    assert review.business_key == NUMBER
    assert documents(product, case) == [("complaint_acknowledgement", "kk"), ("complaint_acknowledgement", "ru")]
    ru = html_of(product, case, "complaint_acknowledgement", "ru")
    kk = html_of(product, case, "complaint_acknowledgement", "kk")
    assert f"{days} рабочих дней со дня регистрации жалобы" in ru and ru_deadline in ru
    assert f"шағым тіркелген күннен бастап {days} жұмыс күні" in kk and kk_deadline in kk
    assert "19 марта 2026 года, 10:00" in ru and NUMBER in ru and "Ахметова Айгүл Серікқызы" in ru
    # acknowledged on the letterhead of the body it is addressed to, by its registrar
    assert name_of(product, BODY_OF[addressee], "ru") in ru and name_of(product, BODY_OF[addressee], "kk") in kk
    assert STAFF[(BODY_OF[addressee], "complaint_registrar")] in ru
    assert steps(product, case)["set_review_period"] == "§9"


@pytest.mark.parametrize(("registered", "deadline"), [
    # Thursday 30 April: 1 May (Friday), the weekend, 7 May and 11 May (9 May moved) are off →
    # 4, 5, 6, 8, 12 May.
    ("2026-04-30T17:00+05:00", "2026-05-12T18:30+05:00"),
    # Friday 20 March before closing: the day counts as the registration day → 26, 27, 30, 31 March, 1 April.
    ("2026-03-20T17:00+05:00", "2026-04-01T18:30+05:00"),
    # Friday 20 March after closing: registered as of Thursday 26 March → 27, 30, 31 March, 1, 2 April.
    ("2026-03-20T19:00+05:00", "2026-04-02T18:30+05:00"),
])
def test_a_complaint_registered_before_days_off(product: Services, registered: str, deadline: str) -> None:
    case = file_complaint(product, complaint(registered_at=at(registered).isoformat()), now=at(registered))
    assert task_of(product, "reviewing_official", case, "review_complaint").due_at == at(deadline)


# --- the complaint goes through the appealed provider first (APPK Art. 91 p.4) -------------------


@pytest.mark.parametrize("channel", ["electronic", "paper"])
def test_a_favourable_act_within_three_days_stops_the_forwarding(product: Services, channel: str) -> None:
    case = file_complaint(product, complaint(channel=channel, against_provider=True))
    consider = task_of(product, "appealed_official", case, "provider_considers_complaint")
    assert consider.due_at == FORWARDING_DEADLINE
    assert tasks_of(product, "reviewing_official", case) == []
    complete(product, "appealed_official", case, "provider_considers_complaint", {
        "decision": "favourable_act", "act_reference": "Бұйрық № 12-ө, 26.03.2026",
        "act_summary": "Құжаттар қабылданды, өтініш қайта қаралды.",
    }, now=at("2026-03-26T11:00+05:00"))
    assert documents(product, case) == [
        ("complaint_acknowledgement", "kk"), ("complaint_acknowledgement", "ru"),
        ("favourable_act_notice", "kk"), ("favourable_act_notice", "ru"),
    ]  # no forwarding letter: the complaint is not sent on
    assert status(product, case) == "completed"
    assert tasks_of(product, "reviewing_official", case) == [] and tasks_of(product, "appealed_official", case) == []
    expected = ["portal_cabinet.complaint_favourable_act"] if channel == "electronic" else []
    assert outbox(product, case, "portal_cabinet") == expected
    ru = html_of(product, case, "favourable_act_notice", "ru")
    assert "Бұйрық № 12-ө, 26.03.2026" in ru and "Құжаттар қабылданды, өтініш қайта қаралды." in ru
    assert "жалоба в орган, рассматривающий жалобу, не направляется" in ru and "статьи 91" in ru
    assert ("личный кабинет" in ru) == (channel == "electronic")
    kk = html_of(product, case, "favourable_act_notice", "kk")
    assert "қолайлы әкімшілік акт" in kk and "шағымды қарайтын органға жіберілмейді" in kk
    # the school appealed against issues it, signed by its official who took the act
    assert name_of(product, SCHOOL_25, "ru") in ru and name_of(product, AKIMAT, "ru") not in ru
    assert STAFF[(SCHOOL_25, "appealed_official")] in ru
    if channel == "electronic":
        [message] = [o for o in view(product, case).outbox if o.channel == "portal_cabinet"]
        assert message.payload == {"complaint_number": NUMBER, "document": "favourable_act_notice"}


def test_forwarded_with_the_administrative_case_then_reviewed_and_decided(product: Services) -> None:
    case = file_complaint(product, complaint(against_provider=True))
    complete(product, "appealed_official", case, "provider_considers_complaint", {"decision": "forward"},
             now=at("2026-03-26T11:00+05:00"))
    assert ("forwarding_letter", "kk") in documents(product, case) and ("forwarding_letter", "ru") in documents(
        product, case)
    ru = html_of(product, case, "forwarding_letter", "ru")
    assert "Кому (орган, рассматривающий жалобу): Местный исполнительный орган" in ru
    assert "вместе с административным делом" in ru and "пунктом 4 статьи 91" in ru
    assert "Ахметова Айгүл Серікқызы" in ru and "Бас тартуды жоюды сұраймын." in ru
    assert "административное дело по заявлению № APP-2026-000123" in ru
    kk = html_of(product, case, "forwarding_letter", "kk")
    assert "Кімге (шағымды қарайтын орган): Жергілікті атқарушы орган" in kk
    assert "әкімшілік іспен бірге" in kk and "91-бабының 4-тармағы" in kk
    # the school sends it on, on its own letterhead, signed by its official who forwarded it
    assert name_of(product, SCHOOL_25, "ru") in ru and STAFF[(SCHOOL_25, "appealed_official")] in ru
    # the akimat reviews it: the school's staff, reviewing officials of their own school's complaints,
    # do not get the task
    assert tasks_of(product, "reviewing_official", case, body=SCHOOL_25) == []
    # the review period still runs from registration, not from forwarding
    review = task_of(product, "reviewing_official", case, "review_complaint")
    assert review.due_at == REVIEW_DEADLINE
    complete(product, "reviewing_official", case, "review_complaint", {
        "decision": "satisfied", "reasons": "Бас тарту негізсіз: ДКК қорытындысы жарамды.",
    }, now=at("2026-03-30T15:00+05:00"))
    assert status(product, case) == "completed"
    assert ("complaint_decision", "kk") in documents(product, case)
    ru = html_of(product, case, "complaint_decision", "ru")
    assert "Жалоба удовлетворена." in ru and "Бас тарту негізсіз: ДКК қорытындысы жарамды." in ru
    assert "обратиться в суд" in ru and "(пункт 10 Правил)" in ru
    assert "считается отклоненной" not in ru  # decided in time
    # the akimat decides: its letterhead and its reviewing official's name, not the school's
    assert name_of(product, AKIMAT, "ru") in ru and STAFF[(AKIMAT, "reviewing_official")] in ru
    assert name_of(product, SCHOOL_25, "ru") not in ru and STAFF[(SCHOOL_25, "reviewing_official")] not in ru
    assert outbox(product, case, "portal_cabinet") == []  # a paper complaint gets paper answers
    assert steps(product, case)["forward_complaint"] == "§9"


def test_a_complaint_addressed_to_the_provider_is_reviewed_there_and_not_forwarded(product: Services) -> None:
    """The provider is itself the reviewing body: nothing is forwarded to itself, its own official reviews."""
    case = file_complaint(product, complaint(addressee="provider", against_provider=True))
    assert tasks_of(product, "appealed_official", case) == []
    review = task_of(product, "reviewing_official", case, "review_complaint", body=SCHOOL_25)
    assert review.due_at == REVIEW_DEADLINE
    assert tasks_of(product, "reviewing_official", case, body=AKIMAT) == []
    complete(product, "reviewing_official", case, "review_complaint",
             {"decision": "rejected", "reasons": "Бас тарту заңды."}, now=at("2026-03-20T11:00+05:00"), body=SCHOOL_25)
    assert documents(product, case) == [
        ("complaint_acknowledgement", "kk"), ("complaint_acknowledgement", "ru"),
        ("complaint_decision", "kk"), ("complaint_decision", "ru"),
    ]  # no forwarding letter
    ru = html_of(product, case, "complaint_decision", "ru")
    assert name_of(product, SCHOOL_25, "ru") in ru and STAFF[(SCHOOL_25, "reviewing_official")] in ru
    assert "forward_complaint" not in steps(product, case)


def test_the_missed_forwarding_deadline_is_escalated(product: Services) -> None:
    case = file_complaint(product, complaint(against_provider=True))
    assert fire(product, at("2026-03-27T18:29+05:00")) == []
    assert fire(product, at("2026-03-27T18:31+05:00")) == [case]
    escalation = task_of(product, "reviewing_official", case, "attend_forwarding_overdue")
    assert escalation.title == "Жалоба не направлена в срок: принять меры"
    # the appealed official still has to act: nothing is decided automatically
    assert task_of(product, "appealed_official", case, "provider_considers_complaint")
    assert ("forwarding_letter", "ru") not in documents(product, case)
    log = history(product, case)
    assert any(e.action == "timer_fired" and e.element_id == "forwarding_deadline_passed" for e in log)
    assert steps(product, case)["flag_forwarding_overdue"] == "§9"
    complete(product, "appealed_official", case, "provider_considers_complaint", {"decision": "forward"},
             now=at("2026-03-30T09:30+05:00"))
    assert ("forwarding_letter", "ru") in documents(product, case)
    complete(product, "reviewing_official", case, "attend_forwarding_overdue",
             {"note": "Обжалуемому должностному лицу сделано замечание."}, now=at("2026-03-30T10:00+05:00"))
    assert [t.element_id for t in tasks_of(product, "reviewing_official", case)] == ["review_complaint"]


# --- extension of the review period (Law Art. 25 p.4) ------------------------------------------------


def _extend(product: Services, case: int, days: int, now: datetime) -> None:
    complete(product, "reviewing_official", case, "review_complaint", {
        "decision": "extend", "extension_days": days,
        "reasons": "Қосымша ақпарат сұратылды: мектептен әкімшілік іс алынуда.",
    }, now=now)


def test_an_extension_is_notified_with_its_reasons_and_the_new_deadline(product: Services) -> None:
    case = file_complaint(product, complaint(channel="electronic"))
    _extend(product, case, 5, now=at("2026-03-27T10:00+05:00"))
    # notify within 3 working days of the extension: 30, 31 March, 1 April
    notify = task_of(product, "reviewing_official", case, "notify_extension")
    assert notify.due_at == at("2026-04-01T18:30+05:00")
    assert ("extension_notice", "ru") not in documents(product, case)  # issued when the official notifies
    complete(product, "reviewing_official", case, "notify_extension", {}, now=at("2026-03-27T11:00+05:00"))
    assert ("extension_notice", "kk") in documents(product, case) and ("extension_notice", "ru") in documents(
        product, case)
    # add_working_days(31 March 18:30, 5): 1, 2, 3, 6, 7 April
    review = task_of(product, "reviewing_official", case, "review_complaint")
    assert review.due_at == at("2026-04-07T18:30+05:00")
    ru = html_of(product, case, "extension_notice", "ru")
    assert "продлен на 5 рабочих дней" in ru and "7 апреля 2026 года, 18:30" in ru
    assert "Қосымша ақпарат сұратылды: мектептен әкімшілік іс алынуда." in ru
    assert "в электронной форме в Ваш личный кабинет" in ru and "статьи 25 Закона" in ru
    kk = html_of(product, case, "extension_notice", "kk")
    assert "5 жұмыс күніне ұзартылғанын" in kk and "2026 жылғы 7 сәуір, 18:30" in kk
    assert outbox(product, case, "portal_cabinet") == ["portal_cabinet.complaint_extension_notice"]
    # the old deadline no longer fires; the new one does
    assert fire(product, at("2026-03-31T18:31+05:00")) == []
    assert fire(product, at("2026-04-07T18:31+05:00")) == [case]
    assert task_of(product, "reviewing_official", case, "attend_missed_review")


def test_an_extension_on_paper_is_notified_in_writing(product: Services) -> None:
    case = file_complaint(product, complaint(channel="paper"))
    _extend(product, case, 1, now=at("2026-03-30T10:00+05:00"))
    complete(product, "reviewing_official", case, "notify_extension", {"note": "Хат поштамен жіберілді."},
             now=at("2026-03-30T12:00+05:00"))
    ru = html_of(product, case, "extension_notice", "ru")
    assert "продлен на 1 рабочий день" in ru and "1 апреля 2026 года, 18:30" in ru
    assert "в письменной форме, так как жалоба подана на бумажном носителе" in ru
    assert outbox(product, case, "portal_cabinet") == []


def test_an_extension_of_eleven_days_is_refused_and_nothing_is_saved(product: Services) -> None:
    case = file_complaint(product, complaint())
    before = (version(product, case), documents(product, case), len(history(product, case)))
    with pytest.raises(FormInvalid) as caught:
        _extend(product, case, 11, now=at("2026-03-27T10:00+05:00"))
    assert list(caught.value.fields) == ["extension_days"]
    [message] = caught.value.fields["extension_days"]
    assert message.code == "maximum"
    assert message.text("ru") == (
        "Значение поля «Продлить срок рассмотрения на, рабочих дней» должно быть не больше 10 (введено: 11)."
    )
    assert (version(product, case), documents(product, case), len(history(product, case))) == before
    assert task_of(product, "reviewing_official", case, "review_complaint").due_at == REVIEW_DEADLINE


def test_the_diagram_refuses_an_extension_over_the_setting(make_product: Callable[..., Services]) -> None:
    product = make_product(HOMESCHOOL_COMPLAINT_MAX_EXTENSION_DAYS="3")
    case = file_complaint(product, complaint())
    before = version(product, case)
    with pytest.raises(ScriptError, match=r"extension_over_limit \(limit=3, used=0, requested=4\)"):
        _extend(product, case, 4, now=at("2026-03-27T10:00+05:00"))
    assert version(product, case) == before
    assert [t.element_id for t in tasks_of(product, "reviewing_official", case)] == ["review_complaint"]
    _extend(product, case, 3, now=at("2026-03-27T10:00+05:00"))
    assert task_of(product, "reviewing_official", case, "notify_extension")


def test_extensions_together_stay_within_ten_working_days(product: Services) -> None:
    """Law Art. 25 p.4: at most 10 working days in all, however many extensions."""
    case = file_complaint(product, complaint())
    _extend(product, case, 6, now=at("2026-03-27T10:00+05:00"))
    complete(product, "reviewing_official", case, "notify_extension", {}, now=at("2026-03-27T11:00+05:00"))
    with pytest.raises(DomainError, match=r"extension_over_limit \(limit=10, used=6, requested=5\)"):
        _extend(product, case, 5, now=at("2026-04-03T10:00+05:00"))
    _extend(product, case, 4, now=at("2026-04-03T10:00+05:00"))  # 6 + 4 = 10 is still allowed


def test_a_period_that_has_passed_can_no_longer_be_extended(product: Services) -> None:
    case = file_complaint(product, complaint())  # due Tue 31 March 2026, 18:30
    with pytest.raises(DomainError, match="review_period_passed"):
        _extend(product, case, 3, now=at("2026-04-01T10:00+05:00"))


def test_a_late_extension_notice_is_escalated(product: Services) -> None:
    case = file_complaint(product, complaint())
    _extend(product, case, 5, now=at("2026-03-27T10:00+05:00"))
    assert fire(product, at("2026-04-01T18:29+05:00")) == []
    assert fire(product, at("2026-04-01T18:31+05:00")) == [case]
    escalation = task_of(product, "reviewing_official", case, "attend_late_extension_notice")
    assert escalation.title == "Уведомление о продлении просрочено"
    assert task_of(product, "reviewing_official", case, "notify_extension")  # still to be done
    complete(product, "reviewing_official", case, "notify_extension", {}, now=at("2026-04-02T09:30+05:00"))
    assert ("extension_notice", "ru") in documents(product, case)
    complete(product, "reviewing_official", case, "attend_late_extension_notice",
             {"note": "Уведомление направлено 02.04.2026 с опозданием."}, now=at("2026-04-02T10:00+05:00"))
    assert [t.element_id for t in tasks_of(product, "reviewing_official", case)] == ["review_complaint"]


# --- the decision and the right to go to court (§10) -------------------------------------------------


@pytest.mark.parametrize(("decision", "ru_outcome", "kk_outcome"), [
    ("satisfied", "Жалоба удовлетворена.", "Шағым қанағаттандырылды."),
    ("partly_satisfied", "Жалоба удовлетворена частично.", "Шағым ішінара қанағаттандырылды."),
    ("rejected", "В удовлетворении жалобы отказано.", "Шағымды қанағаттандырудан бас тартылды."),
])
def test_the_decision_states_its_reasons_and_the_right_to_go_to_court(
    product: Services, decision: str, ru_outcome: str, kk_outcome: str
) -> None:
    case = file_complaint(product, complaint(channel="electronic"))
    complete(product, "reviewing_official", case, "review_complaint",
             {"decision": decision, "reasons": "Әкімшілік іс зерделенді."}, now=at("2026-03-31T17:00+05:00"))
    assert status(product, case) == "completed"
    assert documents(product, case) == [
        ("complaint_acknowledgement", "kk"), ("complaint_acknowledgement", "ru"),
        ("complaint_decision", "kk"), ("complaint_decision", "ru"),
    ]
    ru = html_of(product, case, "complaint_decision", "ru")
    kk = html_of(product, case, "complaint_decision", "kk")
    assert f"Решение {ru_outcome}" in ru and f"Шешім {kk_outcome}" in kk
    assert "Мотивы решения Әкімшілік іс зерделенді." in ru and "Шешімнің уәждері Әкімшілік іс зерделенді." in kk
    assert "Вы вправе обратиться в суд в порядке, установленном законодательством Республики Казахстан" \
           " (пункт 10 Правил)" in ru
    assert "Қазақстан Республикасының заңнамасында белгіленген тәртіппен сотқа жүгінуге құқылысыз" \
           " (Қағидалардың 10-тармағы)" in kk
    assert "считается отклоненной" not in ru and "100-бабының" not in kk
    # the akimat's reviewing official who decided signs, under the akimat's letterhead
    assert f"Должностное лицо, уполномоченное на рассмотрение жалобы {STAFF[(AKIMAT, 'reviewing_official')]}" in ru
    assert f"Шағымды қарау өкілеттігі берілген лауазымды адам {STAFF[(AKIMAT, 'reviewing_official')]}" in kk
    assert name_of(product, AKIMAT, "ru") in ru and name_of(product, SCHOOL_25, "ru") not in ru
    assert outbox(product, case, "portal_cabinet") == ["portal_cabinet.complaint_decision"]
    assert steps(product, case)["issue_decision"] == "§9,§10"


def test_the_missed_review_deadline_counts_as_refused_and_is_escalated(product: Services) -> None:
    case = file_complaint(product, complaint(channel="electronic"))
    assert fire(product, at("2026-03-31T18:29+05:00")) == []
    assert fire(product, at("2026-03-31T18:31+05:00")) == [case]
    escalation = task_of(product, "reviewing_official", case, "attend_missed_review")
    assert escalation.title == "Срок рассмотрения пропущен: принять меры"
    assert task_of(product, "reviewing_official", case, "review_complaint")  # still to be decided
    assert steps(product, case)["record_missed_deadline"] == "§9,§10"
    complete(product, "reviewing_official", case, "review_complaint",
             {"decision": "rejected", "reasons": "Бас тарту заңды."}, now=at("2026-04-01T10:00+05:00"))
    ru = html_of(product, case, "complaint_decision", "ru")
    kk = html_of(product, case, "complaint_decision", "kk")
    assert "В удовлетворении жалобы отказано." in ru
    assert "Жалоба рассмотрена с пропуском установленного срока рассмотрения." in ru
    assert "пунктом 5 статьи 100 Административного процедурно-процессуального кодекса" in ru
    assert "не рассмотренная в установленный срок, считается отклоненной" in ru and "(пункт 10 Правил)" in ru
    assert "100-бабының 5-тармағына" in kk and "қанағаттандырылмаған болып есептеледі" in kk
    assert outbox(product, case, "portal_cabinet") == ["portal_cabinet.complaint_decision"]
    assert status(product, case) == "running"  # the escalation is still open
    complete(product, "reviewing_official", case, "attend_missed_review",
             {"note": "Служебная проверка назначена."}, now=at("2026-04-01T11:00+05:00"))
    assert status(product, case) == "completed"


def test_a_decision_after_the_deadline_says_so_even_before_the_timer_ran(product: Services) -> None:
    case = file_complaint(product, complaint())
    # the worker was down: no sweep ran at 31 March 18:30, the reviewer decides the next morning
    complete(product, "reviewing_official", case, "review_complaint",
             {"decision": "satisfied", "reasons": "Негізді."}, now=at("2026-04-01T09:05+05:00"))
    ru = html_of(product, case, "complaint_decision", "ru")
    assert "Жалоба удовлетворена." in ru and "Жалоба рассмотрена с пропуском установленного срока" in ru
    assert "считается отклоненной" not in ru  # satisfied after all: it no longer counts as refused


@pytest.mark.parametrize("language", ["kk", "ru"])
@pytest.mark.parametrize("decision", ["rejected", "partly_satisfied"])
def test_a_late_decision_says_the_complaint_counts_as_refused(
    language: str, decision: str, provider: ProviderInfo,
) -> None:
    late = _readable(_render("complaint_decision", language, provider, late=True, decision=decision))
    in_time = _readable(_render("complaint_decision", language, provider, late=False, decision=decision))
    if language == "ru":
        phrases = ["Жалоба рассмотрена с пропуском установленного срока рассмотрения.",
                   "пунктом 5 статьи 100 Административного процедурно-процессуального кодекса",
                   "не рассмотренная в установленный срок, считается отклоненной",
                   "Вы вправе обратиться в суд независимо от настоящего решения."]
    else:
        phrases = ["Шағым белгіленген қарау мерзімі өткізіліп қаралды.", "100-бабының 5-тармағына",
                   "белгіленген мерзімде қаралмаған шағым қанағаттандырылмаған болып есептеледі",
                   "осы шешімге қарамастан сотқа жүгінуге құқылысыз"]
    for phrase in phrases:
        assert phrase in late and phrase not in in_time
    assert ("сотқа жүгінуге құқылысыз (Қағидалардың 10-тармағы)" if language == "kk" else "(пункт 10 Правил)") in (
        in_time)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_late_satisfied_decision_says_it_was_late_but_not_that_the_complaint_counts_as_refused(
    language: str, provider: ProviderInfo,
) -> None:
    text = _readable(_render("complaint_decision", language, provider, late=True, decision="satisfied"))
    if language == "ru":
        said = ["Жалоба удовлетворена.", "Жалоба рассмотрена с пропуском установленного срока рассмотрения."]
        unsaid = ["считается отклоненной", "статьи 100", "независимо от настоящего решения"]
    else:
        said = ["Шағым қанағаттандырылды.", "Шағым белгіленген қарау мерзімі өткізіліп қаралды."]
        unsaid = ["қанағаттандырылмаған болып есептеледі", "100-бабының", "осы шешімге қарамастан"]
    assert all(phrase in text for phrase in said), said
    assert not [phrase for phrase in unsaid if phrase in text]


# --- §10: a court appeal is recorded on the case -----------------------------------------------------


def test_a_court_appeal_is_recorded_with_paragraph_10(product: Services) -> None:
    case = file_complaint(product, complaint())
    complete(product, "reviewing_official", case, "review_complaint",
             {"decision": "rejected", "reasons": "Бас тарту заңды."}, now=at("2026-03-30T10:00+05:00"))
    now = at("2026-04-13T09:00+05:00")
    court = "Алматы қаласының мамандандырылған ауданаралық әкімшілік соты"
    registrar = official(product, "complaint_registrar", AKIMAT)  # of the body that reviewed it
    with product.uow() as uow:
        recorded = record_court_appeal(uow, product.runtime, actor=registrar, instance_id=case, court=f"  {court} ",
                                       filed_on="2026-04-10", now=now, note="Талап арыз көшірмесі алынды.")
    assert recorded == case
    [entry] = [e for e in history(product, case) if e.action == "court_appeal_recorded"]
    assert entry.paragraph == "§10" and entry.business_key == NUMBER and entry.actor == registrar.login
    assert entry.details == {"court": court, "filed_on": "2026-04-10", "note": "Талап арыз көшірмесі алынды."}


#: Who tries to record a court appeal on the akimat's complaint.
RECORDERS: dict[str, Callable[[Services], Actor]] = {
    "akimat registrar": lambda product: official(product, "complaint_registrar", AKIMAT),
    "school 112 registrar": lambda product: official(product, "complaint_registrar", SCHOOL_112),
    "akimat official without the role": lambda product: person(product, "appealed_official", bin_=AKIMAT,
                                                               login="other@akimat", full_name="Сейтқали Нұржан"),
}


@pytest.mark.parametrize(("who", "other_case", "court", "filed_on", "error", "message"), [
    ("akimat registrar", False, "Сот", "2026-04-14", InvalidInput, "cannot be filed in the future"),
    ("akimat registrar", True, "Сот", "2026-04-10", NotFound, "does not exist"),
    ("akimat registrar", False, "   ", "2026-04-10", InvalidInput, "name the court"),
    ("akimat registrar", False, "Сот", "10.04.2026", InvalidInput, "not a date like 2026-04-10"),
    # need to know: another organisation's complaint is not disclosed; a colleague without the role is refused
    ("school 112 registrar", False, "Сот", "2026-04-10", NotFound, "does not exist"),
    ("akimat official without the role", False, "Сот", "2026-04-10", NotPermitted, "recorded by the head"),
])
def test_a_court_appeal_that_cannot_be_is_refused_and_nothing_is_logged(
    product: Services, who: str, other_case: bool, court: str, filed_on: str, error: type[Exception], message: str
) -> None:
    case = file_complaint(product, complaint())
    before = len(history(product, case))
    actor = RECORDERS[who](product)
    with product.uow() as uow, pytest.raises(error, match=message):
        record_court_appeal(uow, product.runtime, actor=actor, instance_id=case + 1000 if other_case else case,
                            court=court, filed_on=filed_on, now=at("2026-04-13T09:00+05:00"))
    assert len(history(product, case)) == before


# --- forms: what the officials may submit ------------------------------------------------------------


EXPECTED_FIELDS = {
    "complaint_filed": [
        "complaint_number", "channel", "addressee", "registered_at", "complainant.full_name", "complainant.iin",
        "complainant.address", "complainant.email", "complainant.phone", "appealed.subject",
        "appealed.description", "appealed.service_case", "against_provider", "text", "provider_bin",
        "addressee_bin",
    ],
    "provider_considers_complaint": ["decision", "act_reference", "act_summary"],
    "attend_forwarding_overdue": ["note"],
    "review_complaint": ["decision", "reasons", "extension_days"],
    "notify_extension": ["note"],
    "attend_late_extension_notice": ["note"],
    "attend_missed_review": ["note"],
}


def test_the_complaint_forms_have_the_contract_fields_labelled_in_three_languages() -> None:
    present = {p.name.removesuffix(".schema.json") for p in (FORMS / PROCESS).glob("*.schema.json")}
    assert present == set(EXPECTED_FIELDS)
    for task_id, fields in EXPECTED_FIELDS.items():
        form = load_form(FORMS, PROCESS, task_id)
        assert form.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert [f.name for f in form.fields()] == fields, task_id
        nodes = [("(form)", form.schema)]
        pending = [(name, sub) for name, sub in form.schema["properties"].items()]
        while pending:
            name, node = pending.pop()
            nodes.append((name, node))
            pending.extend((f"{name}.{n}", s) for n, s in node.get("properties", {}).items())
        for path, node in nodes:
            assert set(node["x-labels"]) == {"kk", "ru", "en"} and node["title"] == node["x-labels"]["ru"], path
            for names in node.get("x-enum-labels", {}).values():
                assert set(names) == set(node["enum"]), path
    review = load_form(FORMS, PROCESS, "review_complaint").schema["properties"]
    assert (review["extension_days"]["minimum"], review["extension_days"]["maximum"]) == (1, 10)
    addressee = load_form(FORMS, PROCESS, "complaint_filed").schema["properties"]["addressee"]
    assert addressee["x-enum-labels"]["ru"]["quality_authority"] == (
        "уполномоченный орган по оценке и контролю за качеством оказания государственных услуг"
    )


def _codes(task_id: str, data: dict[str, Any]) -> dict[str, list[str]]:
    found = validate_submission(load_form(FORMS, PROCESS, task_id), data)
    return {path: [m.code for m in messages] for path, messages in found.items()}


@pytest.mark.parametrize(("data", "expected"), [
    ({"decision": "satisfied", "reasons": "Негізді."}, {}),
    ({"decision": "extend", "reasons": "Тексеру.", "extension_days": 10}, {}),
    ({"decision": "rejected"}, {"reasons": ["required"]}),
    ({"decision": "rejected", "reasons": ""}, {"reasons": ["required"]}),
    ({"decision": "extend", "reasons": "Тексеру."}, {"extension_days": ["required_when"]}),
    ({"decision": "extend", "reasons": "Тексеру.", "extension_days": 0}, {"extension_days": ["minimum"]}),
    ({"decision": "extend", "reasons": "Тексеру.", "extension_days": 2.5}, {"extension_days": ["type"]}),
    # Decided: days given with a decision other than "extend" are refused, so nobody believes the period
    # was extended when it was not.
    ({"decision": "satisfied", "reasons": "Негізді.", "extension_days": 3}, {"extension_days": ["only_when"]}),
    ({"reasons": "Негізді.", "extension_days": 3}, {"decision": ["required"]}),
    ({"decision": "postpone", "reasons": "Негізді."}, {"decision": ["enum"]}),
])
def test_review_form(data: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert _codes("review_complaint", data) == expected


@pytest.mark.parametrize(("data", "expected"), [
    ({"decision": "forward"}, {}),
    ({"decision": "favourable_act", "act_reference": "Бұйрық № 12"}, {}),
    ({"decision": "favourable_act", "act_summary": "Қабылданды."}, {"act_reference": ["required_when"]}),
    ({"decision": "forward", "act_reference": "Бұйрық № 12"}, {"act_reference": ["only_when"]}),
    ({"decision": "forward", "act_summary": "Қабылданды."}, {"act_summary": ["only_when"]}),
    ({"decision": "forward", "act_summary": ""}, {}),
])
def test_provider_form(data: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert _codes("provider_considers_complaint", data) == expected


def test_the_conditional_messages_name_the_condition_in_each_language() -> None:
    form = load_form(FORMS, PROCESS, "review_complaint")
    [missing] = validate_submission(form, {"decision": "extend", "reasons": "Тексеру."})["extension_days"]
    assert missing.text("ru") == (
        "Заполните поле «Продлить срок рассмотрения на, рабочих дней»: оно обязательно, когда "
        "«Решение по жалобе» — «продлить срок рассмотрения жалобы (extend)»."
    )
    assert missing.text("kk") == (
        "«Қарау мерзімін ұзарту, жұмыс күні» өрісін толтырыңыз: «Шағым бойынша шешім» — "
        "«шағымды қарау мерзімі ұзартылсын (extend)» болғанда ол міндетті."
    )
    assert missing.text("en") == (
        "Fill in “Extend the review period by, working days”: it is required when “Decision on the complaint” "
        "is “extend the review period (extend)”."
    )
    [extra] = validate_submission(form, {"decision": "rejected", "reasons": "Жоқ.", "extension_days": 2})[
        "extension_days"]
    assert extra.text("ru") == (
        "Поле «Продлить срок рассмотрения на, рабочих дней» заполняется только когда «Решение по жалобе» — "
        "«продлить срок рассмотрения жалобы (extend)»; оставьте его пустым."
    )
    for code in ("required_when", "only_when"):
        assert code in MESSAGE_CODES and extra.text("kk") != extra.text("ru") != extra.text("en")


def test_a_review_without_reasons_is_refused_and_nothing_is_saved(product: Services) -> None:
    case = file_complaint(product, complaint())
    before = version(product, case)
    with pytest.raises(FormInvalid) as caught:
        complete(product, "reviewing_official", case, "review_complaint", {"decision": "rejected"},
                 now=at("2026-03-30T10:00+05:00"))
    assert list(caught.value.fields) == ["reasons"]
    assert caught.value.fields["reasons"][0].text("kk") == (
        "«Шешімнің уәждері (мерзімді ұзарту себептері)» өрісін толтырыңыз."
    )
    with pytest.raises(FormInvalid) as caught:
        complete(product, "reviewing_official", case, "review_complaint",
                 {"decision": "satisfied", "reasons": "Негізді.", "extension_days": 5},
                 now=at("2026-03-30T10:00+05:00"))
    assert [m.code for m in caught.value.fields["extension_days"]] == ["only_when"]
    assert version(product, case) == before
    assert documents(product, case) == [("complaint_acknowledgement", "kk"), ("complaint_acknowledgement", "ru")]


def test_a_favourable_act_needs_its_reference(product: Services) -> None:
    case = file_complaint(product, complaint(against_provider=True))
    with pytest.raises(FormInvalid) as caught:
        complete(product, "appealed_official", case, "provider_considers_complaint",
                 {"decision": "favourable_act"}, now=at("2026-03-20T10:00+05:00"))
    assert [m.code for m in caught.value.fields["act_reference"]] == ["required_when"]
    assert task_of(product, "appealed_official", case, "provider_considers_complaint")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"channel": "paper", "complainant": {"full_name": "Ахметова Айгүл"}}, {"complainant.address": ["required_when"]}),
    ({"channel": "electronic", "complainant": {"full_name": "Ахметова Айгүл"}}, {}),
    ({"addressee": "prosecutor"}, {"addressee": ["enum"]}),
    ({"registered_at": "2026-03-19T10:00"}, {"registered_at": ["format_date_time"]}),
    ({"complainant": {"full_name": "Ахметова Айгүл", "address": "Алматы", "email": "not-an-address"}},
     {"complainant.email": ["pattern"]}),
    ({"complainant": {"full_name": "Ахметова Айгүл", "address": "Алматы", "iin": "850615400071"}},
     {"complainant.iin": ["iin_checksum"]}),
    ({"appealed": {"subject": "decision"}}, {"appealed.description": ["required"]}),
    ({"against_provider": "yes"}, {"against_provider": ["type"]}),
])
def test_the_intake_form(changes: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert _codes("complaint_filed", complaint(**changes)) == expected


def test_a_bad_complaint_is_refused_at_intake_and_nothing_is_stored(product: Services) -> None:
    bad = complaint(channel="paper", complainant={"full_name": "Ахметова Айгүл"})
    case_owners = owners(product, AKIMAT, appealed=SCHOOL_25)
    with product.uow() as uow, pytest.raises(FormInvalid) as caught:
        deliver_message(uow, product.runtime, actor=official(product, "complaint_registrar", AKIMAT),
                        name="complaint_filed", business_key=NUMBER, payload=bad, owners=case_owners,
                        now=REGISTERED)
    assert list(caught.value.fields) == ["complainant.address"]
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 0 and uow.inbox.count_pending() == 0


@pytest.mark.parametrize(("rule", "message"), [
    ({"rule": "required_when", "field": "act_reference", "when": {"decison": "favourable_act"}},
     "no field 'decison'"),
    ({"rule": "required_when", "field": "act_reference", "when": {"decision": "favorable"}},
     "'favorable' is not a value field 'decision' can take"),
    ({"rule": "only_when", "field": "act_reference", "when": {}}, "'when' must be an object"),
    ({"rule": "only_when", "field": "act", "when": {"decision": "forward"}}, "no field 'act'"),
])
def test_a_conditional_rule_that_names_no_real_field_or_value_is_refused(
    tmp_path: Path, rule: dict[str, Any], message: str
) -> None:
    schema = json.loads((FORMS / PROCESS / "provider_considers_complaint.schema.json").read_text(encoding="utf-8"))
    schema["x-rules"] = [rule]
    (tmp_path / PROCESS).mkdir()
    (tmp_path / PROCESS / "provider_considers_complaint.schema.json").write_text(json.dumps(schema),
                                                                                 encoding="utf-8")
    with pytest.raises(DomainError, match=message):
        load_form(tmp_path, PROCESS, "provider_considers_complaint")


# --- documents: every kind in both languages -----------------------------------------------------------


NOW = at("2026-03-26T11:15+05:00")
HOSTILE = "<script>alert(1)</script>"
PAYLOADS: dict[str, dict[str, Any]] = {
    "complaint_acknowledgement": {"review_days": 5, "review_deadline": "2026-03-31T18:30:00+05:00"},
    "favourable_act_notice": {"act_reference": "Бұйрық № 12-ө", "act_summary": "Өтініш қайта қаралды."},
    "forwarding_letter": {},
    "extension_notice": {"extension_days": 5, "reasons": "Жергілікті жерде тексеру.",
                         "review_deadline": "2026-04-07T18:30:00+05:00"},
    "complaint_decision": {"decision": "partly_satisfied", "reasons": "Ішінара негізді.", "late": True},
}


@pytest.fixture(scope="module")
def provider() -> ProviderInfo:
    """School № 25's letterhead as the demo registry describes it."""
    [row] = [row for row in parse_registry(REGISTRY.read_bytes()) if row["bin"] == SCHOOL_25]
    return ProviderInfo.from_organisation(Organisation(id=1, **row))


def _render(kind: str, language: str, provider: ProviderInfo, **changes: Any) -> str:
    context = {"complaint": complaint(), **PAYLOADS[kind], "case_number": NUMBER, "issued_at": NOW,
               "provider": provider, **changes}
    return render_html(kind, language, context)


def test_the_complaint_kinds_are_registered_documents() -> None:
    assert set(PAYLOADS) == COMPLAINT_DOCUMENT_KINDS and set(DOCUMENT_KINDS) >= COMPLAINT_DOCUMENT_KINDS
    assert document_title("complaint_decision", "ru") == "Решение по результатам рассмотрения жалобы"
    assert document_title("extension_notice", "kk") == "Шағымды қарау мерзімін ұзарту туралы хабарлама"
    assert document_title("forwarding_letter", "ru") == (
        "Сопроводительное письмо о направлении жалобы и административного дела"
    )


@pytest.mark.parametrize("language", ["kk", "ru"])
@pytest.mark.parametrize("kind", sorted(COMPLAINT_DOCUMENT_KINDS))
def test_every_complaint_document_renders_with_its_essentials(kind: str, language: str,
                                                              provider: ProviderInfo) -> None:
    html = _render(kind, language, provider)
    text = _readable(html)
    assert html.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in html
    assert _readable(str(escape(document_title(kind, language)))) in text
    assert f"№ {NUMBER}" in text
    assert ("2026 жылғы 26 наурыз" if language == "kk" else "26 марта 2026 года") in text  # the date issued
    assert _readable(str(escape(provider.name(language)))) in text and provider.bin in text
    assert ("2026 жылғы 19 наурыз, 10:00" if language == "kk" else "19 марта 2026 года, 10:00") in text
    if kind == "forwarding_letter":
        assert ("Жергілікті атқарушы орган" if language == "kk" else "Местный исполнительный орган") in text
    else:
        assert "Ахметова Айгүл Серікқызы" in text.split("Кімге" if language == "kk" else "Кому")[1][:200]
    assert ("Шағым №" if language == "kk" else "Жалоба №") in text  # the running footer names the complaint
    assert "Заявление №" not in text and "Өтініш №" not in text
    assert "http://" not in html and "https://" not in html
    other = "ru" if language == "kk" else "kk"
    assert _readable(str(escape(provider.name(other)))) not in text


@pytest.mark.parametrize("kind", sorted(COMPLAINT_DOCUMENT_KINDS))
def test_complaint_text_is_always_escaped(kind: str, provider: ProviderInfo) -> None:
    hostile = complaint(complaint_number=HOSTILE, text=HOSTILE,
                        complainant={"full_name": HOSTILE, "address": HOSTILE, "email": HOSTILE},
                        appealed={"subject": "action", "description": HOSTILE, "service_case": HOSTILE})
    changes: dict[str, Any] = {"complaint": hostile, "official": {"full_name": HOSTILE, "position": HOSTILE}}
    if kind in ("extension_notice", "complaint_decision"):
        changes["reasons"] = HOSTILE + '" onload="x'
    if kind == "favourable_act_notice":
        changes.update(act_reference=HOSTILE, act_summary=HOSTILE)
    for language in ("kk", "ru"):
        html = _render(kind, language, provider, case_number=HOSTILE, **changes)
        assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert '" onload="' not in html


@pytest.mark.parametrize(("kind", "changes", "message"), [
    ("complaint_decision", {"decision": "extend"}, "unknown decision 'extend'"),
    ("complaint_decision", {"reasons": " "}, "states its reasons"),
    ("extension_notice", {"extension_days": None}, "extension_days"),
    ("favourable_act_notice", {"act_reference": ""}, "act_reference"),
    ("complaint_acknowledgement", {"review_deadline": None}, "review_deadline"),
    ("forwarding_letter", {"complaint": complaint(addressee="court")}, "unknown addressee 'court'"),
    ("forwarding_letter", {"complaint": complaint(channel="fax")}, "unknown channel 'fax'"),
])
def test_a_complaint_document_missing_its_particulars_is_not_issued(
    kind: str, changes: dict[str, Any], message: str, provider: ProviderInfo
) -> None:
    with pytest.raises(ValueError, match=message):
        _render(kind, "ru", provider, **changes)


def test_a_complaint_document_needs_the_complaint(provider: ProviderInfo) -> None:
    with pytest.raises(ValueError, match="lacks complaint"):
        render_html("complaint_decision", "kk", {"case_number": NUMBER, "issued_at": NOW, "provider": provider,
                                                 "request": {}})


def test_who_signs_complaint_documents(provider: ProviderInfo) -> None:
    ack = _readable(_render("complaint_acknowledgement", "ru", provider))
    assert "Жалобу зарегистрировал(а): Сотрудник канцелярии" in ack
    by_provider = _readable(_render("complaint_decision", "ru", provider, complaint=complaint(addressee="provider")))
    assert provider.head_name in by_provider
    elsewhere = _readable(_render("complaint_decision", "kk", provider))
    assert "Шағымды қарау өкілеттігі берілген лауазымды адам" in elsewhere and provider.head_name not in elsewhere
    letter = _readable(_render("forwarding_letter", "ru", provider))
    assert provider.head_name in letter  # the appealed body sends the case on


@pytest.mark.parametrize(("days", "ru", "kk"), [
    (1, "1 рабочий день", "1 жұмыс күніне"), (2, "2 рабочих дня", "2 жұмыс күніне"),
    (5, "5 рабочих дней", "5 жұмыс күніне"), (10, "10 рабочих дней", "10 жұмыс күніне"),
])
def test_extension_days_are_worded_in_each_language(days: int, ru: str, kk: str, provider: ProviderInfo) -> None:
    assert f"продлен на {ru}" in _readable(_render("extension_notice", "ru", provider, extension_days=days))
    assert kk in _readable(_render("extension_notice", "kk", provider, extension_days=days))


def test_a_complaint_decision_prints_as_an_a4_pdf(provider: ProviderInfo, tmp_path: Path) -> None:
    pdf = render_pdf(_render("complaint_decision", "kk", provider))
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 5_000 < len(pdf) < 250_000


def test_a_complaint_never_forwarded_still_has_its_review_deadline_escalated(product: Services) -> None:
    """The review period runs from registration even while the complaint sits with the provider."""
    case = file_complaint(product, complaint(against_provider=True))
    assert fire(product, at("2026-03-31T18:29+05:00")) == [case]  # the 3-day forwarding escalation, 27 March
    assert fire(product, at("2026-03-31T18:31+05:00")) == [case]  # the review deadline, 31 March 18:30
    escalation = task_of(product, "reviewing_official", case, "attend_missed_review")
    assert escalation.title == "Срок рассмотрения пропущен: принять меры"
    assert task_of(product, "appealed_official", case, "provider_considers_complaint")  # still to be done


def test_a_review_deadline_missed_at_the_provider_is_escalated_once_even_after_forwarding(product: Services) -> None:
    """The review task, entered after its deadline, does not escalate the same miss a second time."""
    case = file_complaint(product, complaint(against_provider=True))
    fire(product, at("2026-03-31T18:31+05:00"))
    complete(product, "appealed_official", case, "provider_considers_complaint", {"decision": "forward"},
             now=at("2026-04-01T09:00+05:00"))
    fire(product, at("2026-04-01T09:05+05:00"))
    elements = sorted(t.element_id for t in tasks_of(product, "reviewing_official", case))
    assert elements == ["attend_forwarding_overdue", "attend_missed_review", "review_complaint"]


def test_the_extended_deadline_is_watched_while_the_extension_notice_waits(product: Services) -> None:
    case = file_complaint(product, complaint(channel="paper"))
    _extend(product, case, 1, now=at("2026-03-30T10:00+05:00"))  # new deadline 1 April 18:30
    # due when the earlier of its two timers fires: the extended review deadline comes before the
    # 3 working days for the notice (2 April)
    assert task_of(product, "reviewing_official", case, "notify_extension").due_at == at("2026-04-01T18:30+05:00")
    assert fire(product, at("2026-04-01T18:29+05:00")) == []
    assert fire(product, at("2026-04-01T18:31+05:00")) == [case]
    elements = sorted(t.element_id for t in tasks_of(product, "reviewing_official", case))
    assert elements == ["attend_missed_review", "notify_extension"]
    assert steps(product, case)["record_missed_deadline"] == "§9,§10"
    complete(product, "reviewing_official", case, "notify_extension", {}, now=at("2026-04-02T10:00+05:00"))
    fire(product, at("2026-04-02T10:05+05:00"))
    elements = sorted(t.element_id for t in tasks_of(product, "reviewing_official", case))
    assert elements == ["attend_missed_review", "review_complaint"]
    assert task_of(product, "reviewing_official", case, "review_complaint").due_at == at("2026-04-01T18:30+05:00")
