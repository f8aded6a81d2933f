"""Steps about going to court (§10): a recipient's court appeal over a case — a complaint or the
service itself — is recorded in the case's journal; one dated in the future is not."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from service.application.cases import record_court_appeal
from service.bootstrap import Services
from service.domain.errors import InvalidInput
from service.domain.model import EventRecord

from . import people, wording
from .cases import Case, application, submit, view_of
from .documents import issued
from .tasks import clerk_confirms_refusal

#: Who records a court appeal, as the features say it → the role they hold in the organisation that owns
#: the case (the body reviewing a complaint; the school for an application). The school's clerk records it
#: in the role of registering complaints, which the clerk also holds.
RECORDERS = {"сотрудник, регистрирующий жалобы": "complaint_registrar", "сотрудник канцелярии": "office_clerk"}
_RECORDER = "|".join(RECORDERS)
_APPEAL = r"обращение в суд: «(?P<court>.+)», подано (?P<filed>.+? года)"


def court_appeals(product: Services, case: Case) -> list[EventRecord]:
    """The court appeals in the case's journal, oldest first."""
    return [e for e in view_of(product, case).history if e.action == "court_appeal_recorded"]


def record(product: Services, case: Case, who: str, at: str, court: str, filed: str) -> None:
    """``who`` records at ``at`` that the recipient went to ``court`` on the day ``filed``."""
    role = RECORDERS[who]
    recorder = people.actor(product, case.organisation_of(role), role)
    with product.uow() as uow:
        record_court_appeal(uow, product.runtime, actor=recorder, instance_id=case.instance_id, court=court,
                            filed_on=wording.calendar_day(filed).isoformat(), now=wording.moment(at))


@given(parsers.re(r"в приёме заявления № (?P<number>\S+), поданного в канцелярию (?P<at>.+?), мотивированно "
                  r"отказано: не представлено заключение ВКК"), target_fixture="case")
def refused_at_office(product: Services, number: str, at: str) -> Case:
    """The parent handed in the application and the identity document only; the clerk confirmed the refusal (§4)."""
    case = submit(product, application(number, ["application", "identity_document"]), "office", wording.moment(at))
    clerk_confirms_refusal(product, case, at)
    assert issued(product, case, "refusal"), f"application {number} was not refused"
    return case


@when(parsers.re(rf"(?P<who>{_RECORDER}),? (?P<at>.+?) записывает {_APPEAL}"))
def appeal_recorded(product: Services, case: Case, who: str, at: str, court: str, filed: str) -> None:
    """The court appeal is entered in the case's journal."""
    record(product, case, who, at, court, filed)


@when(parsers.re(rf"(?P<who>{_RECORDER}),? (?P<at>.+?) пытается записать {_APPEAL}"), target_fixture="appeal_refused")
def appeal_attempted(product: Services, case: Case, who: str, at: str, court: str, filed: str) -> InvalidInput:
    """The same, where the entry must be turned down; the reason given."""
    try:
        record(product, case, who, at, court, filed)
    except InvalidInput as refused:
        return refused
    raise AssertionError(f"a court appeal filed {filed} was recorded at {at}, which should have been turned down")


@then(parsers.re(rf"в журнале дела записано {_APPEAL}, по пункту 10 Правил"))
def journal_shows_appeal(product: Services, case: Case, court: str, filed: str) -> None:
    """One entry in the case's journal names the court and the day, under §10."""
    [entry] = court_appeals(product, case)
    assert entry.paragraph == "§10" and entry.business_key == case.number, entry
    assert entry.details["court"] == court, entry.details
    assert entry.details["filed_on"] == wording.calendar_day(filed).isoformat(), entry.details


@then(parsers.re(r"обращение в суд не записано: дата подачи (?P<filed>.+? года) ещё не наступила"))
def appeal_not_recorded(appeal_refused: InvalidInput, filed: str) -> None:
    """The entry was refused because the day it names has not come yet."""
    message = str(appeal_refused)
    assert "in the future" in message and wording.calendar_day(filed).isoformat() in message, message


@then("в журнале дела нет записи об обращении в суд")
def no_appeal_in_journal(product: Services, case: Case) -> None:
    """Nothing about a court appeal is in the case's journal."""
    assert court_appeals(product, case) == []
