"""Steps about what leaves the service for outside systems: the applicant's personal cabinet on
the portal, the SMS gateway, and the information system for monitoring state services (§8)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from service.application.staff import register_api_client
from service.bootstrap import Services
from service.domain.model import OutboxItem
from service.web import create_app

from . import wording
from .cases import Case, view_of


def sent(product: Services, case: Case, channel: str) -> list[OutboxItem]:
    """What the case sent on ``channel``, oldest first."""
    return [item for item in reversed(view_of(product, case).outbox) if item.channel == channel]


def stages(product: Services, case: Case) -> list[str]:
    """The stages the monitoring system was told of, oldest first, by their Russian names."""
    return [item.payload["stage_name_ru"] for item in sent(product, case, "monitoring")]


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


def sms_sent(product: Services, offer: Case, phone: str) -> list[OutboxItem]:
    """The SMS the offer sent to ``phone``, oldest first (any other number is a failure)."""
    messages = sent(product, offer, "sms")
    assert all(m.payload["phone"] == phone for m in messages), [m.payload["phone"] for m in messages]
    return messages


def sms_text(message: OutboxItem) -> str:
    """The text of an SMS as the gateway sends it, lines stripped (the feature's layout is not the SMS's)."""
    text = message.payload.get("text")
    assert isinstance(text, str) and text.strip(), f"{message.message_name} carries no text: {message.payload}"
    return "\n".join(line.strip() for line in text.strip().splitlines())


@then(parsers.re(r"на номер (?P<phone>\+\d+) отправлено SMS с предложением услуги"))
def offer_sms(product: Services, offer: Case, phone: str) -> None:
    """One SMS offer, to that number, with a text."""
    messages = sms_sent(product, offer, phone)
    assert [m.message_name for m in messages] == ["sms.proactive_offer"], messages
    sms_text(messages[0])


@then(parsers.re(r"в SMS назван ребёнок «(?P<child>.+)»"))
def sms_names_the_child(product: Services, offer: Case, child: str) -> None:
    """The parent can tell which child the offer is about: the text names the child in both languages."""
    texts = [sms_text(m) for m in sent(product, offer, "sms")]
    assert len(texts) == 1 and all(child in line for line in texts[0].splitlines()), texts


@then("родитель получает SMS с текстом:")
def offer_sms_text(product: Services, offer: Case, docstring: str) -> None:
    """The offer SMS reads exactly so (Kazakh line, then Russian line)."""
    texts = [sms_text(m) for m in sent(product, offer, "sms")]
    assert texts == [docstring.strip()], texts


@then(parsers.re(r"на номер (?P<phone>\+\d+) отправлено SMS с текстом:"))
def last_sms_text(product: Services, offer: Case, phone: str, docstring: str) -> None:
    """The latest SMS to that number reads exactly so."""
    messages = sms_sent(product, offer, phone)
    assert messages and sms_text(messages[-1]) == docstring.strip(), [sms_text(m) for m in messages]


@then(parsers.re(r"на номер (?P<phone>\+\d+) отправлено SMS о том, что предложение закрыто, и как подать заявление"))
def closed_sms(product: Services, offer: Case, phone: str) -> None:
    """The latest SMS says the offer closed and names the ways to apply: the school and egov.kz."""
    messages = sms_sent(product, offer, phone)
    assert messages and messages[-1].message_name == "sms.proactive_offer_closed", messages
    kk, ru = sms_text(messages[-1]).splitlines()
    assert "жабылды" in kk and "egov.kz" in kk and "мектеп" in kk, kk
    assert "закрыто" in ru and "egov.kz" in ru and "школ" in ru, ru


@then(parsers.re(r"SMS о закрытом предложении на номер (?P<phone>\+\d+) не отправлено"))
def no_closed_sms(product: Services, offer: Case, phone: str) -> None:
    """The parent was not told the offer closed: their answer counted."""
    closed = [m for m in sms_sent(product, offer, phone) if m.message_name == "sms.proactive_offer_closed"]
    assert closed == [], closed


@then("ответ не оставлен ждать во входящих")
def reply_not_kept(product: Services, offer: Case) -> None:
    """The late reply was handled: nothing of the offer is left waiting in the inbox."""
    with product.uow(write=False) as uow:
        assert uow.inbox.pending_for(["proactive_reply"], offer.number) == []
    answered = [e for e in view_of(product, offer).history if e.action == "late_reply_answered"]
    assert answered, "the late reply was not recorded as answered"


@then("в информационную систему мониторинга переданы стадии:")
def stages_reported(product: Services, case: Case, datatable: list[list[str]]) -> None:
    """Every stage the case went through, in order, and no other."""
    assert stages(product, case) == wording.table_lines(datatable)


@then(parsers.re(r"услугополучатель видит стадию «(?P<stage>.+)»"))
def applicant_sees_stage(product: Services, case: Case, stage: str) -> None:
    """The stage the monitoring system last received — the one the applicant is shown."""
    reported = stages(product, case)
    assert reported and reported[-1] == stage, reported


@then(parsers.re(r"портал на (?P<language>казахском|русском) языке получает стадию дела «(?P<code>[a-z_+]+)» — "
                 r"«(?P<name>.+)»"))
def portal_reads_stage(product: Services, case: Case, language: str, code: str, name: str) -> None:
    """GET /api/v1/cases/{n} with Accept-Language answers the current stage's code and its name in that language."""
    with product.uow() as uow:
        token = register_api_client(uow, name=f"portal-{language}", scopes=("cases:read",), now=product.now())
    client = create_app(product.settings, product, TESTING=True).test_client()
    answer = client.get(f"/api/v1/cases/{case.number}", headers={
        "Authorization": f"Bearer {token}", "Accept-Language": wording.DOCUMENT_LANGUAGES[language]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["stage"], body["stage_name"]) == (code, name), body


@then(parsers.re(r"последняя запись для информационной системы мониторинга — стадия «(?P<code>[a-z_+]+)»: "
                 r"«(?P<kk>.+)» и «(?P<ru>.+)»"))
def monitoring_entry(product: Services, case: Case, code: str, kk: str, ru: str) -> None:
    """The monitoring system gets the stage's code and both names, not a task's title."""
    last = sent(product, case, "monitoring")[-1].payload
    assert (last["stage"], last["stage_name_kk"], last["stage_name_ru"]) == (code, kk, ru), last
