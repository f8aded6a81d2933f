"""The real diagrams end to end through the application services, with forms and documents:
office acceptance and refusal, portal acceptance and refusal, the missed portal deadline, and
the proactive offer (consent and silence)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.application.cases import complete_task, deliver_message
from service.application.queries import case_view, find_case, list_tasks
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.domain.errors import FormInvalid
from service.domain.identity import make_iin

from .support import at

CHILD_IIN = make_iin(date(2015, 4, 2), "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)
FRIDAY_1700 = at("2026-03-20T17:00+05:00")




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


def submit(product: Services, req: dict[str, Any], now=FRIDAY_1700) -> int:
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, name="service_requested",
                                  business_key=req["application_number"], payload=req, now=now, actor="clerk")
    assert receipt.outcome == "started", receipt
    assert receipt.instance_id is not None
    return receipt.instance_id


def task_of(product: Services, role: str, case: int):
    with product.uow(write=False) as uow:
        tasks = [t for t in list_tasks(uow, role=role).items if t.instance_id == case]
    assert len(tasks) == 1, tasks
    return tasks[0]


def complete(product: Services, role: str, case: int, data: dict[str, Any], now=FRIDAY_1700) -> None:
    task = task_of(product, role, case)
    with product.uow() as uow:
        complete_task(uow, product.runtime, task_id=task.task_id, data=data, actor=role, actor_roles={role}, now=now)


def documents(product: Services, case: int) -> list[tuple[str, str]]:
    with product.uow(write=False) as uow:
        return sorted((d.kind, d.language) for d in uow.documents.for_instance(case))


def outbox(product: Services, case: int, channel: str) -> list[str]:
    with product.uow(write=False) as uow:
        view = case_view(uow, case)
    return [o.message_name for o in reversed(view.outbox) if o.channel == channel]


def organise_and_order(product: Services, case: int) -> None:
    complete(product, "head", case, {"grade": 5, "language": "kk"})
    complete(product, "specialist", case, {
        "teachers": [{"full_name": "Серікова Д.", "subject": "Математика"}], "weekly_hours": 8,
        "curriculum_reference": "ИУП-5-2026", "period_start": "2026-04-01", "period_end": "2026-12-31",
    })
    complete(product, "head", case, {"order_number": "45-ж", "order_date": "2026-03-31"})


def test_office_acceptance_to_admission_order(product: Services) -> None:
    case = submit(product, request())
    assert documents(product, case) == [("receipt", "kk"), ("receipt", "ru")]  # at once (§4)
    assert task_of(product, "head", case).element_id == "determine_class_and_language"
    organise_and_order(product, case)
    with product.uow(write=False) as uow:
        view = case_view(uow, case)
    assert view.status == "completed"
    assert ("admission_order", "ru") in documents(product, case)
    assert outbox(product, case, "portal_cabinet") == []  # an office case gets its papers in person
    stages = [o.payload["stage"] for o in reversed(view.outbox) if o.channel == "monitoring"]
    assert stages == ["determine_class_and_language", "organise_home_schooling", "issue_admission_order",
                      "service_provided"]


def test_office_incomplete_package_is_refused_with_each_reason(product: Services) -> None:
    req = request(documents=["application"])
    req["vkk_conclusion"] = dict(req["vkk_conclusion"], valid_until="2026-03-19")
    case = submit(product, req)
    with product.uow(write=False) as uow:
        view = case_view(uow, case)
        [ru] = [d for d in uow.documents.for_instance(case) if d.language == "ru"]
        html = uow.documents.get(ru.id).html
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
    with product.uow(write=False) as uow:
        [kk] = [d for d in uow.documents.for_instance(case) if d.language == "kk"]
        html = uow.documents.get(kk.id).html
    assert "ВКК нөмірі сәйкес емес" in html
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
        assert list_tasks(uow, role="office_clerk", overdue_at=at("2026-03-27T18:31+05:00")).total == 1
    with product.uow(write=False) as uow:
        assert case_view(uow, case).status == "running"


def test_bad_intake_is_refused_field_by_field_and_nothing_is_stored(product: Services) -> None:
    bad = request(child={"full_name": "Ахметов Нұрлан", "iin": "150402500019", "birth_date": "2015-04-02"})
    with product.uow() as uow, pytest.raises(FormInvalid) as caught:
        deliver_message(uow, product.runtime, name="service_requested", business_key=bad["application_number"],
                        payload=bad, now=FRIDAY_1700)
    assert "child.iin" in caught.value.fields
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 0 and uow.inbox.count_pending() == 0


def test_head_form_is_validated_and_a_bad_grade_loses_nothing(product: Services) -> None:
    case = submit(product, request())
    task = task_of(product, "head", case)
    with product.uow() as uow, pytest.raises(FormInvalid) as caught:
        complete_task(uow, product.runtime, task_id=task.task_id, data={"grade": 12, "language": "en"},
                      actor="head", now=FRIDAY_1700)
    assert set(caught.value.fields) == {"grade", "language"}
    assert task_of(product, "head", case).task_id == task.task_id  # still open, nothing saved


def _conclusion(number: str = "OFFER-1") -> dict[str, Any]:
    return {
        "offer_number": number,
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": "2015-04-02"},
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "phone": "+77011234567"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
    }


def _offer(product: Services) -> int:
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, name="vkk_conclusion_registered", business_key="OFFER-1",
                                  payload=_conclusion(), now=FRIDAY_1700, actor="system:gbd")
    assert receipt.outcome == "started" and receipt.instance_id is not None
    return receipt.instance_id


def test_proactive_consent_starts_the_service_without_an_application(product: Services) -> None:
    offer = _offer(product)
    assert outbox(product, offer, "sms") == ["sms.proactive_offer"]
    with product.uow() as uow:
        deliver_message(uow, product.runtime, name="proactive_reply", business_key="OFFER-1",
                        payload={"consent": True, "phone": "+77011234567"}, now=at("2026-03-21T09:00+05:00"))
    with product.uow(write=False) as uow:
        assert case_view(uow, offer).status == "completed"
        service_case = find_case(uow, "service_delivery", "OFFER-1")
    assert service_case is not None
    check = task_of(product, "office_clerk", service_case)
    assert check.element_id == "check_portal_request"  # no documents demanded from the parent


def test_proactive_silence_closes_the_offer(product: Services) -> None:
    offer = _offer(product)
    assert fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T16:59+05:00")).fired == []
    assert fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T17:01+05:00")).fired == [offer]
    with product.uow(write=False) as uow:
        view = case_view(uow, offer)
        assert find_case(uow, "service_delivery", "OFFER-1") is None
    assert view.status == "completed"
    assert [o.payload["stage"] for o in view.outbox if o.channel == "monitoring"][0] == "offer_closed_on_silence"


def test_a_timer_fires_at_exactly_its_due_instant_and_only_once(product: Services) -> None:
    offer = _offer(product)
    sweep = fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T17:00+05:00"))
    assert sweep.fired == [offer] and sweep.failed == {}
    with product.uow(write=False) as uow:
        assert case_view(uow, offer).status == "completed"


def test_a_reply_from_another_phone_leaves_the_offer_waiting(product: Services) -> None:
    offer = _offer(product)
    with product.uow() as uow:
        deliver_message(uow, product.runtime, name="proactive_reply", business_key="OFFER-1",
                        payload={"consent": True, "phone": "+77019876543"}, now=at("2026-03-21T09:00+05:00"))
    with product.uow(write=False) as uow:
        view = case_view(uow, offer)
        assert find_case(uow, "service_delivery", "OFFER-1") is None
    assert view.status == "running" and [t.element_id for t in view.timers] == ["reply_window_closed"]
    with product.uow() as uow:  # the parent's own answer still counts
        deliver_message(uow, product.runtime, name="proactive_reply", business_key="OFFER-1",
                        payload={"consent": True, "phone": "+77011234567"}, now=at("2026-03-21T10:00+05:00"))
    with product.uow(write=False) as uow:
        assert find_case(uow, "service_delivery", "OFFER-1") is not None
