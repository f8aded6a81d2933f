"""Steps about what leaves the service for outside systems: the applicant's personal cabinet on
the portal, the SMS gateway, and the information system for monitoring state services (§8)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from service.bootstrap import Services
from service.domain.model import OutboxItem
from service.domain.time import parse_instant

from . import wording
from .cases import Case, view_of


def sent(product: Services, case: Case, channel: str) -> list[OutboxItem]:
    """What the case sent on ``channel``, oldest first."""
    return [item for item in reversed(view_of(product, case).outbox) if item.channel == channel]


def stages(product: Services, case: Case) -> list[str]:
    """The stages the monitoring system was told of, oldest first, by the names people read."""
    return [item.payload["stage_name"] for item in sent(product, case, "monitoring")]


@then(parsers.re(r"в личный кабинет услугополучателя направлен[аоы]? (?P<document>.+)"))
def sent_to_cabinet(product: Services, case: Case, document: str) -> None:
    """The personal cabinet on egov.kz was sent this document."""
    kind = wording.document(document).kind
    documents = [item.payload.get("document") for item in sent(product, case, "portal_cabinet")]
    assert kind in documents, f"the personal cabinet got {documents}"


@then("в личный кабинет услугополучателя ничего не направлено")
def nothing_to_cabinet(product: Services, case: Case) -> None:
    """An office case gets its papers in person: nothing goes to the portal."""
    assert sent(product, case, "portal_cabinet") == []


@then("решение по запросу не принято: документы не выданы, в личный кабинет ничего не направлено")
def nothing_decided(product: Services, case: Case) -> None:
    """Nobody and nothing decided the request: no document, nothing to the applicant."""
    with product.uow(write=False) as uow:
        assert uow.documents.for_instance(case.instance_id) == []
    view = view_of(product, case)
    assert view.status == "running", view
    assert sent(product, case, "portal_cabinet") == []


@then(parsers.re(r"на номер (?P<phone>\+\d+) отправлено SMS с предложением услуги, ответ ждут до (?P<until>.+)"))
def offer_sms(product: Services, offer: Case, phone: str, until: str) -> None:
    """One SMS offer to that number, saying until when the answer is awaited."""
    messages = sent(product, offer, "sms")
    assert [m.message_name for m in messages] == ["sms.proactive_offer"], messages
    assert messages[0].payload["phone"] == phone
    assert parse_instant(messages[0].payload["expires_at"]) == wording.moment(until), messages[0].payload


@then(parsers.re(r"в SMS назван ребёнок «(?P<child>.+)»"))
def sms_names_the_child(product: Services, offer: Case, child: str) -> None:
    """The parent can tell which child the offer is about."""
    assert [m.payload["child_name"] for m in sent(product, offer, "sms")] == [child]


@then("в информационную систему мониторинга переданы стадии:")
def stages_reported(product: Services, case: Case, datatable: list[list[str]]) -> None:
    """Every stage the case went through, in order, and no other."""
    assert stages(product, case) == wording.table_lines(datatable)


@then(parsers.re(r"услугополучатель видит стадию «(?P<stage>.+)»"))
def applicant_sees_stage(product: Services, case: Case, stage: str) -> None:
    """The stage the monitoring system last received — the one the applicant is shown."""
    reported = stages(product, case)
    assert reported and reported[-1] == stage, reported
