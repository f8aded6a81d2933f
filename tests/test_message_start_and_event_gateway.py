"""A case started by a message, sending an SMS, then waiting for a reply *or* 24 clock hours."""

from __future__ import annotations

import pytest

from service.application.cases import deliver_message
from service.application.queries import case_view
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.domain.errors import InvalidInput

from .support import SYSTEM, at, owners

SENT = at("2026-03-20T17:00+05:00")


def _offer(services: Services) -> int:
    with services.uow() as uow:
        receipt = deliver_message(uow, services.runtime, actor=SYSTEM, name="conclusion_registered",
                                  business_key="IIN-1", payload={"phone": "+77010000000"}, now=SENT,
                                  owners=owners(services))
    assert receipt.outcome == "started"
    assert receipt.instance_id is not None
    return receipt.instance_id


def test_message_starts_a_case_that_sends_an_sms_and_waits_for_either(services: Services) -> None:
    case = _offer(services)
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
        assert uow.awaited.instance_waiting("offer_reply", "IIN-1") == case
    [sms] = [o.payload for o in view.outbox if o.channel == "sms"]
    assert (sms["phone"], sms["expires_at"]) == ("+77010000000", "2026-03-21T17:00:00+05:00")
    assert "DEMO-1" in sms["texts"]["kk"] and "DEMO-1" in sms["texts"]["ru"]  # written from the templates
    [stage] = [o.payload for o in view.outbox if o.channel == "monitoring"]
    assert stage["stage"] == "offer_sent"  # §8: waiting for the reply is a stage too
    assert [(t.element_id, t.due_at) for t in view.timers] == [("offer_expired", at("2026-03-21T17:00+05:00"))]


def test_reply_within_24_hours_closes_the_wait_and_cancels_the_timer(services: Services) -> None:
    case = _offer(services)
    with services.uow() as uow:
        receipt = deliver_message(uow, services.runtime, actor=SYSTEM, name="offer_reply", business_key="IIN-1",
                                  payload={"consent": True}, now=at("2026-03-21T09:00+05:00"))
    assert (receipt.outcome, receipt.instance_id) == ("delivered", case)
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
    assert view.status == "completed" and view.timers == []
    assert fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-22T00:00+05:00")).fired == []


def test_silence_for_24_clock_hours_closes_the_offer(services: Services) -> None:
    case = _offer(services)
    assert fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-21T16:59+05:00")).fired == []
    assert fire_due_timers(services.write_uow, services.runtime, now=at("2026-03-21T17:01+05:00")).fired == [case]
    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
        assert uow.awaited.instance_waiting("offer_reply", "IIN-1") is None
    assert view.status == "completed"
    assert any(e.action == "step" and e.element_id == "offer_expired" and e.paragraph == "§7-1" for e in view.history)
    with services.uow() as uow:  # a late reply is kept, not lost, and not applied to the closed offer
        late = deliver_message(uow, services.runtime, actor=SYSTEM, name="offer_reply", business_key="IIN-1",
                               payload={"consent": True}, now=at("2026-03-21T18:00+05:00"))
    assert late.outcome == "kept"


def test_a_message_that_would_start_a_case_without_its_organisation_is_refused(services: Services) -> None:
    with services.uow() as uow, pytest.raises(InvalidInput, match="name the organisation"):
        deliver_message(uow, services.runtime, actor=SYSTEM, name="conclusion_registered", business_key="IIN-1",
                        payload={"phone": "+77010000000"}, now=SENT)
    with services.uow(write=False) as uow:
        assert uow.instances.count() == 0 and uow.inbox.count_pending() == 0
