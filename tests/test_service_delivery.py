"""The real diagrams end to end through the application services, with forms and documents:
office acceptance and refusal, portal acceptance and refusal, the missed portal deadline, the
proactive offer (consent and silence), and whose name and letterhead the documents carry."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from markupsafe import escape

from service.application.cases import complete_task, deliver_message
from service.application.queries import case_view, find_case, list_tasks
from service.application.sms import report_sms_delivery
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.domain.errors import FormInvalid
from service.domain.identity import make_iin
from service.domain.model import TaskSummary
from service.domain.staff import Actor

from .support import SCHOOL_25, SCHOOL_112, SYSTEM, at, owners, person

CHILD_IIN = make_iin(date(2015, 4, 2), "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)
FRIDAY_1700 = at("2026-03-20T17:00+05:00")
PORTAL = Actor.client("portal")

#: The named staff who act in these tests: (school, role) → full name.
STAFF = {
    (SCHOOL_25, "office_clerk"): "Сәрсенова Әсел Нұрланқызы",
    (SCHOOL_25, "head"): "Сәрсенбаева Гүлнұр Қайратқызы",
    (SCHOOL_25, "specialist"): "Иванова Мария Петровна",
    (SCHOOL_112, "office_clerk"): "Ким Елена Викторовна",
    (SCHOOL_112, "head"): "Ахметов Данияр Серікұлы",
    (SCHOOL_112, "specialist"): "Оспанова Жанар Қанатқызы",
}


def staff(product: Services, role: str, school: str = SCHOOL_25) -> Actor:
    """The named member of ``school``'s staff who holds ``role`` there."""
    return person(product, role, bin_=school, login=f"{role}@{school}", full_name=STAFF[(school, role)])


def request(number: str = "APP-2026-000123", channel: str = "office", **changes: Any) -> dict[str, Any]:
    """A complete application as the intake form or the portal submits it."""
    base: dict[str, Any] = {
        "application_number": number, "channel": channel, "received_at": FRIDAY_1700.isoformat(),
        "applicant": {"full_name": "Ахметова Айгүл Серікқызы", "iin": PARENT_IIN, "phone": "+77011234567",
                      "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion"] + (["identity_document"] if channel == "office" else []),
    }
    base.update(changes)
    return base


def submit(product: Services, req: dict[str, Any], now=FRIDAY_1700, school: str = SCHOOL_25) -> int:
    """The request arrives at ``school``: handed in to its clerk, or from the portal."""
    actor = staff(product, "office_clerk", school) if req["channel"] == "office" else PORTAL
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, actor=actor, name="service_requested",
                                  business_key=req["application_number"], payload=req,
                                  owners=owners(product, school), now=now)
    assert receipt.outcome == "started", receipt
    assert receipt.instance_id is not None
    return receipt.instance_id


def tasks_seen(product: Services, actor: Actor, case: int, role: str | None = None) -> list[TaskSummary]:
    """The case's tasks in ``actor``'s task list (of ``role``, or of all their roles)."""
    with product.uow(write=False) as uow:
        return [t for t in list_tasks(uow, product.runtime, actor=actor, role=role).items if t.instance_id == case]


def task_of(product: Services, role: str, case: int, school: str = SCHOOL_25) -> TaskSummary:
    """The one task of the case in the task list of ``school``'s member of staff holding ``role``."""
    tasks = tasks_seen(product, staff(product, role, school), case, role)
    assert len(tasks) == 1, tasks
    return tasks[0]


def complete(product: Services, role: str, case: int, data: dict[str, Any], now=FRIDAY_1700,
             school: str = SCHOOL_25) -> None:
    task = task_of(product, role, case, school)
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=staff(product, role, school), task_id=task.task_id, data=data,
                      now=now)


def view_of(product: Services, case: int):
    with product.uow(write=False) as uow:
        return case_view(uow, product.runtime, actor=SYSTEM, instance_id=case)


def documents(product: Services, case: int) -> list[tuple[str, str]]:
    with product.uow(write=False) as uow:
        return sorted((d.kind, d.language) for d in uow.documents.for_instance(case))


def html_of(product: Services, case: int, kind: str, language: str) -> str:
    with product.uow(write=False) as uow:
        [info] = [d for d in uow.documents.for_instance(case) if d.kind == kind and d.language == language]
        stored = uow.documents.get(info.id)
    assert stored is not None
    return stored.html


def outbox(product: Services, case: int, channel: str) -> list[str]:
    return [o.message_name for o in reversed(view_of(product, case).outbox) if o.channel == channel]


def organise_and_order(product: Services, case: int, school: str = SCHOOL_25) -> None:
    complete(product, "head", case, {"grade": 5, "language": "kk"}, school=school)
    complete(product, "specialist", case, {
        "teachers": [{"full_name": "Серікова Д.", "subject": "Математика"}], "weekly_hours": 8,
        "curriculum_reference": "ИУП-5-2026", "period_start": "2026-04-01", "period_end": "2026-12-31",
    }, school=school)
    complete(product, "head", case, {"order_number": "45-ж", "order_date": "2026-03-31"}, school=school)


def test_office_acceptance_to_admission_order(product: Services) -> None:
    case = submit(product, request())
    assert documents(product, case) == [("receipt", "kk"), ("receipt", "ru")]  # at once (§4)
    assert task_of(product, "head", case).element_id == "determine_class_and_language"
    organise_and_order(product, case)
    view = view_of(product, case)
    assert view.status == "completed"
    assert ("admission_order", "ru") in documents(product, case)
    assert outbox(product, case, "portal_cabinet") == []  # an office case gets its papers in person
    stages = [o.payload["stage"] for o in reversed(view.outbox) if o.channel == "monitoring"]
    assert stages == ["class_and_language", "organising", "order", "provided"]


def test_office_incomplete_package_is_refused_with_each_reason(product: Services) -> None:
    req = request(documents=["application"])
    req["vkk_conclusion"] = dict(req["vkk_conclusion"], valid_until="2026-03-19")
    case = submit(product, req)
    assert documents(product, case) == []  # only a person refuses: the clerk confirms first
    assert task_of(product, "office_clerk", case).element_id == "confirm_office_refusal"
    complete(product, "office_clerk", case, {"decision": "refuse"})
    view = view_of(product, case)
    html = html_of(product, case, "refusal", "ru")
    assert view.status == "completed" and view.open_tasks == []
    assert documents(product, case) == [("refusal", "kk"), ("refusal", "ru")]
    assert "Не представлен документ: заключение ВКК" in html and "удостоверяющий личность" in html
    assert "Истек срок действия документа: заключение ВКК" in html and "статья 19 Закона" in html
    assert "суд" in html  # §10: the right to go to court is stated


def test_portal_request_due_in_two_working_days_then_accepted(product: Services) -> None:
    case = submit(product, request(channel="portal"))
    check = task_of(product, "office_clerk", case)
    assert check.element_id == "check_portal_request"
    assert check.due_at == at("2026-03-27T18:30+05:00")  # Nauryz: 21–25 March are off
    complete(product, "office_clerk", case, {"decision": "accept"}, now=at("2026-03-26T10:00+05:00"))
    assert ("acceptance_notification", "kk") in documents(product, case)
    assert outbox(product, case, "portal_cabinet") == ["portal_cabinet.acceptance_notification"]
    organise_and_order(product, case)
    assert outbox(product, case, "portal_cabinet")[-1] == "portal_cabinet.admission_order"


def test_portal_refusal_lists_the_clerks_reason_too(product: Services) -> None:
    case = submit(product, request(channel="portal"))
    complete(product, "office_clerk", case, {
        "decision": "refuse", "extra_reasons": [{"code": "unreliable_data", "note": "ВКК нөмірі сәйкес емес"}],
    })
    assert "ВКК нөмірі сәйкес емес" in html_of(product, case, "refusal", "kk")
    assert outbox(product, case, "portal_cabinet") == ["portal_cabinet.refusal"]


def test_missed_portal_deadline_is_escalated_not_decided(product: Services) -> None:
    case = submit(product, request(channel="portal"))
    assert fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-27T18:29+05:00")).fired == []
    assert fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-27T18:31+05:00")).fired == [case]
    assert task_of(product, "head", case).element_id == "attend_overdue_request"
    clerk_task = task_of(product, "office_clerk", case)
    assert clerk_task.element_id == "check_portal_request"  # still the clerk's
    assert clerk_task.due_at == at("2026-03-27T18:30+05:00")  # and still shown as due (now overdue)
    with product.uow(write=False) as uow:
        assert list_tasks(uow, product.runtime, actor=staff(product, "office_clerk"), role="office_clerk",
                          overdue_at=at("2026-03-27T18:31+05:00")).total == 1
    assert view_of(product, case).status == "running"


def test_bad_intake_is_refused_field_by_field_and_nothing_is_stored(product: Services) -> None:
    bad = request(child={"full_name": "Ахметов Нұрлан", "iin": "150402500019", "birth_date": "2015-04-02"})
    school = owners(product)
    with product.uow() as uow, pytest.raises(FormInvalid) as caught:
        deliver_message(uow, product.runtime, actor=staff(product, "office_clerk"), name="service_requested",
                        business_key=bad["application_number"], payload=bad, owners=school, now=FRIDAY_1700)
    assert "child.iin" in caught.value.fields
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 0 and uow.inbox.count_pending() == 0


def test_head_form_is_validated_and_a_bad_grade_loses_nothing(product: Services) -> None:
    case = submit(product, request())
    task = task_of(product, "head", case)
    with product.uow() as uow, pytest.raises(FormInvalid) as caught:
        complete_task(uow, product.runtime, actor=staff(product, "head"), task_id=task.task_id,
                      data={"grade": 12, "language": "en"}, now=FRIDAY_1700)
    assert set(caught.value.fields) == {"grade", "language"}
    assert task_of(product, "head", case).task_id == task.task_id  # still open, nothing saved


# --- who the documents name: the official who decided, the school from the registry -----------------


def school_name(product: Services, school: str, language: str) -> str:
    """The school's official name in ``language`` as the registry holds it, as it stands in HTML."""
    with product.uow(write=False) as uow:
        found = uow.organisations.by_bin(school)
    assert found is not None
    return str(escape(found.name(language)))


def test_documents_name_the_official_who_decided_and_the_school_from_the_registry(product: Services) -> None:
    refused = submit(product, request("APP-2026-000201", channel="portal"))
    # the clerk also registers complaints (as on the demo accounts): she signs in the role she acted in
    clerk = person(product, "office_clerk", "complaint_registrar", login="clerk",
                   full_name=STAFF[(SCHOOL_25, "office_clerk")])
    [check] = tasks_seen(product, clerk, refused)
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=clerk, task_id=check.task_id, data={
            "decision": "refuse", "extra_reasons": [{"code": "unreliable_data", "note": "ВКК нөмірі сәйкес емес"}],
        }, now=at("2026-03-26T10:00+05:00"))
    accepted = submit(product, request("APP-2026-000202", channel="portal"))
    other_clerk = person(product, "office_clerk", login="clerk-b", full_name="Төлеуова Меруерт Асанқызы")
    [task] = tasks_seen(product, other_clerk, accepted)
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=other_clerk, task_id=task.task_id, data={"decision": "accept"},
                      now=at("2026-03-26T11:00+05:00"))
    signature = '<td class="position">{}</td>'
    assert signature.format("Кеңсе қызметкері") in html_of(product, refused, "refusal", "kk")
    assert signature.format("Работник канцелярии") in html_of(product, refused, "refusal", "ru")
    for language in ("kk", "ru"):
        refusal = html_of(product, refused, "refusal", language)
        assert STAFF[(SCHOOL_25, "office_clerk")] in refusal  # the clerk who refused signs it
        assert STAFF[(SCHOOL_25, "head")] not in refusal  # not the head, who did not decide
        assert "Төлеуова Меруерт Асанқызы" not in refusal
        assert school_name(product, SCHOOL_25, language) in refusal and SCHOOL_25 in refusal
        acceptance = html_of(product, accepted, "acceptance_notification", language)
        assert "Төлеуова Меруерт Асанқызы" in acceptance  # the clerk who accepted signs it
        assert STAFF[(SCHOOL_25, "office_clerk")] not in acceptance
        assert school_name(product, SCHOOL_25, language) in acceptance and SCHOOL_25 in acceptance
    organise_and_order(product, accepted)
    order = html_of(product, accepted, "admission_order", "ru")
    assert STAFF[(SCHOOL_25, "head")] in order and school_name(product, SCHOOL_25, "ru") in order


def test_a_document_of_school_112s_case_carries_school_112s_name(product: Services) -> None:
    case = submit(product, request("APP-2026-000203", channel="portal"), school=SCHOOL_112)
    complete(product, "office_clerk", case, {"decision": "accept"}, now=at("2026-03-26T10:00+05:00"),
             school=SCHOOL_112)
    for language in ("kk", "ru"):
        html = html_of(product, case, "acceptance_notification", language)
        assert school_name(product, SCHOOL_112, language) in html and SCHOOL_112 in html
        assert school_name(product, SCHOOL_25, language) not in html and SCHOOL_25 not in html
        assert STAFF[(SCHOOL_112, "office_clerk")] in html
    organise_and_order(product, case, school=SCHOOL_112)
    order = html_of(product, case, "admission_order", "kk")
    assert school_name(product, SCHOOL_112, "kk") in order and STAFF[(SCHOOL_112, "head")] in order
    assert school_name(product, SCHOOL_25, "kk") not in order


# --- the proactive offer (§7-1) --------------------------------------------------------------------------


def _conclusion(number: str = "OFFER-1") -> dict[str, Any]:
    return {
        "offer_number": number,
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": "2015-04-02"},
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "phone": "+77011234567"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
    }


def _offer(product: Services) -> int:
    """An offer whose SMS the gateway reports delivered at once (Friday 17:00): its 24 hours run from then."""
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, actor=Actor.client("gbd"), name="vkk_conclusion_registered",
                                  business_key="OFFER-1", payload=_conclusion(), owners=owners(product),
                                  now=FRIDAY_1700)
    assert receipt.outcome == "started" and receipt.instance_id is not None
    [sms] = [o for o in view_of(product, receipt.instance_id).outbox if o.channel == "sms"]
    reported = report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"),
                                   message_id=sms.idempotency_key, status="delivered", at=FRIDAY_1700,
                                   now=FRIDAY_1700)
    assert reported.result == "delivered"
    return receipt.instance_id


def _reply(product: Services, phone: str, now) -> None:
    with product.uow() as uow:
        deliver_message(uow, product.runtime, actor=Actor.client("sms"), name="proactive_reply",
                        business_key="OFFER-1", payload={"consent": True, "phone": phone}, now=now)


def _service_case(product: Services) -> int | None:
    with product.uow(write=False) as uow:
        return find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery", business_key="OFFER-1")


def test_proactive_consent_starts_the_service_without_an_application(product: Services) -> None:
    offer = _offer(product)
    assert outbox(product, offer, "sms") == ["sms.proactive_offer"]
    _reply(product, "+77011234567", at("2026-03-21T09:00+05:00"))
    assert view_of(product, offer).status == "completed"
    service_case = _service_case(product)
    assert service_case is not None
    assert view_of(product, service_case).organisation_id == owners(product).organisation_id  # the same school
    check = task_of(product, "office_clerk", service_case)
    assert check.element_id == "check_portal_request"  # no documents demanded from the parent


def test_proactive_silence_closes_the_offer(product: Services) -> None:
    offer = _offer(product)
    assert fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T16:59+05:00")).fired == []
    assert fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T17:01+05:00")).fired == [offer]
    view = view_of(product, offer)
    assert _service_case(product) is None
    assert view.status == "completed"
    assert [o.payload["stage"] for o in view.outbox if o.channel == "monitoring"][0] == "offer_closed"


def test_a_timer_fires_at_exactly_its_due_instant_and_only_once(product: Services) -> None:
    offer = _offer(product)
    sweep = fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T17:00+05:00"))
    assert sweep.fired == [offer] and sweep.failed == {}
    assert view_of(product, offer).status == "completed"


def test_a_reply_from_another_phone_leaves_the_offer_waiting(product: Services) -> None:
    offer = _offer(product)
    _reply(product, "+77019876543", at("2026-03-21T09:00+05:00"))
    view = view_of(product, offer)
    assert _service_case(product) is None
    assert view.status == "running" and [t.element_id for t in view.timers] == ["reply_window_closed"]
    _reply(product, "+77011234567", at("2026-03-21T10:00+05:00"))  # the parent's own answer still counts
    assert _service_case(product) is not None
