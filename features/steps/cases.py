"""Steps about cases: a parent applies at the office or on the portal; the provider offers the
service proactively and the parent answers by phone; a case is started, or is not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from service.application.cases import deliver_message
from service.application.intake import start_owners
from service.application.queries import case_view, find_case
from service.application.sms import report_sms_delivery
from service.application.submissions import reply_to_offer
from service.bootstrap import Services, build_services
from service.domain.identity import make_iin
from service.domain.staff import Actor
from service.domain.time import format_instant
from tests.support import SCHOOL_25, SYSTEM

from . import people, wording

CHILD = {"full_name": "Ахметов Нұрлан", "iin": make_iin(date(2015, 4, 2), "male", 1), "birth_date": "2015-04-02"}
PARENT = {"full_name": "Ахметова Айгүл Серікқызы", "iin": make_iin(date(1985, 6, 15), "female", 7),
          "phone": "+77011234567", "relation": "parent"}
VKK = {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01", "recommends_home_schooling": True}


@dataclass(frozen=True)
class Case:
    """A case the scenario follows: its id, its business key (application or offer number) and
    the organisations it belongs to, as the scenario says (BINs)."""

    instance_id: int
    number: str
    #: The school that provides the service, or whose decision a complaint appeals.
    school: str = SCHOOL_25
    #: For a complaint: the body that reviews it (the school itself for a complaint to the provider).
    body: str | None = None

    def organisation_of(self, role: str) -> str:
        """The organisation whose official of ``role`` works on this case."""
        if role == "appealed_official" or self.body is None:
            return self.school
        return self.body


def start(product: Services, message: str, number: str, payload: dict[str, Any], at: datetime, actor: Actor,
          registered_at: str | None) -> int:
    """A message that starts a case arrives, as the office or the API delivers it: its organisations
    are found from the BINs in it (``registered_at``: the BIN of the office that registered it)."""
    process = product.runtime.engine.library.process_starting_with(message)
    assert process is not None, f"no process starts with '{message}'"
    with product.uow() as uow:
        office = uow.organisations.by_bin(registered_at) if registered_at else None
        owners = start_owners(uow, form=f"{process.process_id}/{message}", payload=payload, registered_at=office)
        receipt = deliver_message(uow, product.runtime, actor=actor, name=message, business_key=number,
                                  payload=payload, owners=owners, now=at)
    assert receipt.outcome == "started" and receipt.instance_id is not None, receipt
    return receipt.instance_id


def view_of(product: Services, case: Case):
    """What the service itself knows of the case (its journal, what it sent)."""
    with product.uow(write=False) as uow:
        return case_view(uow, product.runtime, actor=SYSTEM, instance_id=case.instance_id)


def application(number: str, documents: list[str], valid_until: date | None = None) -> dict[str, Any]:
    """An application for the child Ахметов Нұрлан by his mother, with the documents named."""
    vkk = dict(VKK, valid_until=valid_until.isoformat()) if valid_until else dict(VKK)
    request = {"application_number": number, "applicant": dict(PARENT), "child": dict(CHILD), "vkk_conclusion": vkk,
               "documents": documents}
    if "vkk_conclusion" not in documents:
        del request["vkk_conclusion"]  # a parent who came without the conclusion: nothing of it is typed in
    return request


def submit(product: Services, request: dict[str, Any], channel: str, at: datetime, school: str = SCHOOL_25) -> Case:
    """The request to ``school`` arrives on ``channel`` at ``at``: handed in to its clerk, or from the portal."""
    payload = dict(request, channel=channel, received_at=format_instant(at), provider_bin=school)
    number = payload["application_number"]
    if channel == "office":
        instance_id = start(product, "service_requested", number, payload, at,
                            people.actor(product, school, "office_clerk"), registered_at=school)
    else:
        instance_id = start(product, "service_requested", number, payload, at, Actor.client("portal"), None)
    return Case(instance_id, number, school)


def application_case(product: Services, number: str) -> Case:
    """The case of the application with this number, wherever it was handed in."""
    with product.uow(write=False) as uow:
        found = find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery", business_key=number)
        stored = uow.instances.get(found) if found is not None else None
        school = uow.organisations.get(stored.organisation_id) if stored and stored.organisation_id else None
    assert found is not None and school is not None, f"there is no application № {number}"
    return Case(found, number, school.bin)


# --- applying ---------------------------------------------------------------------------------


@given(parsers.re(r"пакет документов по заявлению № (?P<number>\S+): (?P<listed>«.+»)"),
       target_fixture="package")
def package_of(number: str, listed: str) -> dict[str, Any]:
    """The documents a parent brings, e.g. «заявление», «заключение ВКК» и «документ, удостоверяющий личность»."""
    names = wording.quoted(listed)
    unknown = [name for name in names if name not in wording.PACKAGE_DOCUMENTS]
    assert not unknown, f"unknown documents {unknown}; known: {list(wording.PACKAGE_DOCUMENTS)}"
    return application(number, [wording.PACKAGE_DOCUMENTS[name] for name in names])


@given(parsers.re(r"заключение ВКК выдано (?P<issued>.+? года) и действительно по (?P<until>.+? года)"))
def conclusion_valid(package: dict[str, Any], issued: str, until: str) -> None:
    """The VKK conclusion's validity, as printed on it."""
    package["vkk_conclusion"].update(issued_on=wording.calendar_day(issued).isoformat(),
                                     valid_until=wording.calendar_day(until).isoformat())


@given("в заключении ВКК нет рекомендации индивидуального обучения на дому")
def conclusion_not_recommending(package: dict[str, Any]) -> None:
    """The conclusion does not recommend home schooling (a ground under Art. 19-1, not Art. 19)."""
    package["vkk_conclusion"]["recommends_home_schooling"] = False


@when(parsers.re(r"услугополучатель подаёт пакет в канцелярию (?P<at>.+)"), target_fixture="case")
def hand_in_at_office(product: Services, package: dict[str, Any], at: str) -> Case:
    """The parent hands the package in at the school's office."""
    return submit(product, package, "office", wording.moment(at))


@given(parsers.re(r"пакет документов по заявлению № (?P<number>\S+) принят в канцелярии"
                  r"(?: (?P<school>школы № \d+))? (?P<at>(?:в|во) .+)"), target_fixture="case")
def accepted_at_office(product: Services, number: str, school: str | None, at: str) -> Case:
    """A complete package (application, VKK conclusion, identity document) handed in at the office
    (of school № 25 unless another school is named)."""
    request = application(number, ["application", "vkk_conclusion", "identity_document"])
    return submit(product, request, "office", wording.moment(at), people.organisation(school) if school else SCHOOL_25)


_PORTAL_REQUEST = (r"электронный запрос № (?P<number>\S+) с заявлением и заключением ВКК"
                   r"(?:, действительным по (?P<until>.+? года),)? (?:поступает|поступил) через портал (?P<at>.+)")


@given(parsers.re(_PORTAL_REQUEST), target_fixture="case")
@when(parsers.re(_PORTAL_REQUEST), target_fixture="case")
def portal_request(product: Services, number: str, until: str | None, at: str) -> Case:
    """An electronic request from egov.kz with the application and the VKK conclusion attached.

    No identity document: its data come from state information systems (§5).
    """
    valid_until = wording.calendar_day(until) if until else None
    return submit(product, application(number, ["application", "vkk_conclusion"], valid_until), "portal",
                  wording.moment(at))


# --- the proactive offer ----------------------------------------------------------------------


def offer_service(product: Services, number: str, phone: str, at: datetime) -> Case:
    """A state information system reports a VKK conclusion; the provider offers the service by SMS."""
    conclusion = {"offer_number": number, "child": dict(CHILD),
                  "applicant": {"full_name": PARENT["full_name"], "iin": PARENT["iin"], "phone": phone},
                  "vkk_conclusion": dict(VKK), "provider_bin": SCHOOL_25}
    instance_id = start(product, "vkk_conclusion_registered", number, conclusion, at,
                        Actor.client("information_system"), None)
    return Case(instance_id, number)


def confirm_delivery(product: Services, offer: Case, at: datetime) -> None:
    """The SMS gateway reports that the latest offer SMS reached the phone at ``at`` (and reports it then)."""
    offers = [m for m in view_of(product, offer).outbox if m.message_name == "sms.proactive_offer"]  # newest first
    assert offers, f"offer {offer.number} sent no SMS"
    outcome = report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"),
                                  message_id=offers[0].idempotency_key, status="delivered", at=at, now=at)
    assert outcome.result == "delivered", outcome


@when(parsers.re(r"из информационной системы поступает заключение ВКК ребёнка с номером родителя "
                 r"(?P<phone>\+\d+) \(предложение № (?P<number>\S+)\) (?P<at>.+)"), target_fixture="offer")
def conclusion_reported(product: Services, phone: str, number: str, at: str) -> Case:
    """The information system reports the conclusion; the offer is made from it."""
    return offer_service(product, number, phone, wording.moment(at))


@given(parsers.re(r"услугодатель предложил услугу № (?P<number>\S+) по SMS на номер (?P<phone>\+\d+) "
                  r"(?P<at>(?:в|во) .+)"), target_fixture="offer")
def service_offered(product: Services, number: str, phone: str, at: str) -> Case:
    """The offer has been made: its SMS is queued for the gateway, which has not yet said it was delivered."""
    return offer_service(product, number, phone, wording.moment(at))


@given(parsers.re(r"услугодатель предложил услугу № (?P<number>\S+) по SMS на номер (?P<phone>\+\d+), "
                  r"SMS доставлено (?P<at>.+)"), target_fixture="offer")
def service_offered_and_delivered(product: Services, number: str, phone: str, at: str) -> Case:
    """The offer has been made and the gateway confirmed at once that the SMS reached the phone."""
    offer = offer_service(product, number, phone, wording.moment(at))
    confirm_delivery(product, offer, wording.moment(at))
    return offer


_DELIVERED = r"SMS-шлюз подтвердил доставку предложения (?P<at>.+)"


@given(parsers.re(_DELIVERED))
@when(parsers.re(_DELIVERED))
def delivery_confirmed(product: Services, offer: Case, at: str) -> None:
    """The gateway's delivery report for the latest offer SMS: it reached the phone at ``at``."""
    confirm_delivery(product, offer, wording.moment(at))


@given("молчание на предложение не считается отказом", target_fixture="product")
def silence_is_not_refusal(product: Services, request: pytest.FixtureRequest) -> Services:
    """The product with HOMESCHOOL_PROACTIVE_SILENCE_IS_REFUSAL=false, on the same database and registry."""
    changed = build_services(replace(product.settings, proactive_silence_is_refusal=False))
    changed.organisation_ids = product.organisation_ids  # type: ignore[attr-defined]
    request.addfinalizer(changed.database.dispose)
    return changed


_REPLY = r"с номера (?P<phone>\+\d+) (?:приходит|пришло|пришёл) (?P<answer>согласие|отказ) (?P<at>.+)"


@given(parsers.re(_REPLY), target_fixture="case")
@when(parsers.re(_REPLY), target_fixture="case")
def reply_by_phone(product: Services, offer: Case, phone: str, answer: str, at: str) -> Case | None:
    """The parent answers the offer from a phone, through the gateway; the case of the service, if one started."""
    reply_to_offer(product.write_uow, product.runtime, actor=Actor.client("sms"), offer=offer.number,
                   consent=answer == "согласие", phone=phone, text=None, idempotency_key=None,
                   now=wording.moment(at))
    return service_case(product, offer)


_LATE_PROCESSED = (r"с номера (?P<phone>\+\d+) приходит (?P<answer>согласие|отказ), полученное шлюзом за секунду до "
                   r"(?P<deadline>.+), а обработанное (?P<at>.+)")


@when(parsers.re(_LATE_PROCESSED), target_fixture="case")
def reply_processed_late(product: Services, offer: Case, phone: str, answer: str, deadline: str,
                         at: str) -> Case | None:
    """The gateway received the answer a second before ``deadline``; the service handles it only at ``at``."""
    reply_to_offer(product.write_uow, product.runtime, actor=Actor.client("sms"), offer=offer.number,
                   consent=answer == "согласие", phone=phone, text=None, idempotency_key=None,
                   received_at=wording.moment(deadline) - timedelta(seconds=1), now=wording.moment(at))
    return service_case(product, offer)


def service_case(product: Services, offer: Case) -> Case | None:
    """The case of the service started from an offer, if there is one."""
    with product.uow(write=False) as uow:
        found = find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery",
                          business_key=offer.number)
    return Case(found, offer.number, offer.school) if found is not None else None


@then("оказание услуги начато без заявления")
def service_started_without_application(product: Services, offer: Case) -> None:
    """The service runs on the information systems' data: no application, nothing refused for want of one."""
    started = service_case(product, offer)
    assert started is not None, f"no service case was started by offer {offer.number}"
    view = view_of(product, started)
    with product.uow(write=False) as uow:
        issued = {d.kind for d in uow.documents.for_instance(started.instance_id)}
    assert view.status == "running" and view.open_tasks, view
    assert view.organisation_id == people.organisation_id(product, offer.school), "the service went to another school"
    assert "refusal" not in issued, "the proactive service was refused for documents nobody asked for"


@then("оказание услуги не начато")
def service_not_started(product: Services, offer: Case) -> None:
    """No case of the service exists for this offer."""
    assert service_case(product, offer) is None


@then(parsers.re(r"предложение ожидает ответа услугополучателя до (?P<until>.+)"))
def offer_waits(product: Services, offer: Case, until: str) -> None:
    """The offer is open and its 24-hour wait runs out at ``until``."""
    view = view_of(product, offer)
    assert view.status == "running", view
    assert [(t.element_id, t.due_at) for t in view.timers] == [("reply_window_closed", wording.moment(until))], \
        view.timers


@then(parsers.re(r"предложение ожидает, когда SMS-шлюз подтвердит доставку, — не дольше (?P<until>.+)"))
def offer_awaits_delivery(product: Services, offer: Case, until: str) -> None:
    """The 24 hours have not begun: the offer waits for the delivery report, until the clerk is to be told."""
    view = view_of(product, offer)
    assert view.status == "running" and not view.open_tasks, view
    assert [(t.element_id, t.due_at) for t in view.timers] == [("delivery_not_confirmed", wording.moment(until))], \
        view.timers


@then(parsers.re(r"предложение закрыто со стадией «(?P<stage>.+)»"))
def offer_closed(product: Services, offer: Case, stage: str) -> None:
    """The offer is over, and the stage it ended with went to the monitoring system."""
    view = view_of(product, offer)
    assert view.status == "completed", view
    stages = [o.payload["stage_name_ru"] for o in view.outbox if o.channel == "monitoring"]  # newest first
    assert stages and stages[0] == stage, stages


@then(parsers.re(r"у сотрудника канцелярии ожидает задача «(?P<title>.+?)» по предложению"))
def offer_task_waits(product: Services, offer: Case, title: str) -> None:
    """The office clerk of the offering school has this task of the offer in their list."""
    view = view_of(product, offer)
    assert view.status == "running", view
    assert [(t.lane, t.title) for t in view.open_tasks] == [("office_clerk", title)], view.open_tasks
