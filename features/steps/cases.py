"""Steps about cases: a parent applies at the office or on the portal; the provider offers the
service proactively and the parent answers by phone; a case is started, or is not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pytest_bdd import given, parsers, then, when

from service.application.cases import deliver_message
from service.application.intake import start_owners
from service.application.queries import case_view, find_case
from service.bootstrap import Services
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
    return {"application_number": number, "applicant": dict(PARENT), "child": dict(CHILD), "vkk_conclusion": vkk,
            "documents": documents}


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


@when(parsers.re(r"из информационной системы поступает заключение ВКК ребёнка с номером родителя "
                 r"(?P<phone>\+\d+) \(предложение № (?P<number>\S+)\) (?P<at>.+)"), target_fixture="offer")
def conclusion_reported(product: Services, phone: str, number: str, at: str) -> Case:
    """The information system reports the conclusion; the offer is made from it."""
    return offer_service(product, number, phone, wording.moment(at))


@given(parsers.re(r"услугодатель предложил услугу № (?P<number>\S+) по SMS на номер (?P<phone>\+\d+) (?P<at>.+)"),
       target_fixture="offer")
def service_offered(product: Services, number: str, phone: str, at: str) -> Case:
    """The offer has been made (a conclusion was reported for a child whose parent has this number)."""
    return offer_service(product, number, phone, wording.moment(at))


_REPLY = r"с номера (?P<phone>\+\d+) (?:приходит|пришло|пришёл) (?P<answer>согласие|отказ) (?P<at>.+)"


@given(parsers.re(_REPLY), target_fixture="case")
@when(parsers.re(_REPLY), target_fixture="case")
def reply_by_phone(product: Services, offer: Case, phone: str, answer: str, at: str) -> Case | None:
    """The parent answers the offer from a phone; the case of the service, if the answer started one."""
    with product.uow() as uow:
        deliver_message(uow, product.runtime, actor=Actor.client("sms"), name="proactive_reply",
                        business_key=offer.number, payload={"consent": answer == "согласие", "phone": phone},
                        now=wording.moment(at))
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


@then("предложение ожидает ответа услугополучателя")
def offer_waits(product: Services, offer: Case) -> None:
    """The offer is open and its 24-hour wait is still running."""
    view = view_of(product, offer)
    assert view.status == "running", view
    assert [t.element_id for t in view.timers] == ["reply_window_closed"], view.timers


@then(parsers.re(r"предложение закрыто со стадией «(?P<stage>.+)»"))
def offer_closed(product: Services, offer: Case, stage: str) -> None:
    """The offer is over, and the stage it ended with went to the monitoring system."""
    view = view_of(product, offer)
    assert view.status == "completed", view
    stages = [o.payload["stage_name"] for o in view.outbox if o.channel == "monitoring"]  # newest first
    assert stages and stages[0] == stage, stages
