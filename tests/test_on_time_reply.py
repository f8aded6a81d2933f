"""§7-1: a reply received before the 24 hours ran out wins over the timer, whatever the order of processing;
one received after is answered ``closed`` and never left waiting. The same Idempotency-Key with another
body is a 409 conflict."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient

from service.application.queries import find_case
from service.application.sms import report_sms_delivery
from service.application.submissions import reply_to_offer
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.domain.staff import Actor

from .support import SYSTEM, pg_url
from .test_sms_gateway import FRIDAY_1700, PHONE, api, offer_case, sms_of, tokens  # noqa: F401 - fixtures

DEADLINE = FRIDAY_1700 + timedelta(hours=24)
GATEWAY = Actor.client("sms")


def _delivered_offer(product: Services, number: str) -> int:
    """An offer whose SMS reached the phone at 17:00 on Friday: the reply is due by 17:00 on Saturday."""
    instance_id = offer_case(product, number, now=FRIDAY_1700)
    [offer_sms] = sms_of(product, instance_id)
    report_sms_delivery(product.write_uow, product.runtime, actor=GATEWAY, message_id=offer_sms.idempotency_key,
                        status="delivered", at=FRIDAY_1700, now=FRIDAY_1700)
    return instance_id


def _reply(product: Services, number: str, received: datetime, processed: datetime) -> str:
    return reply_to_offer(product.write_uow, product.runtime, actor=GATEWAY, offer=number, consent=True, phone=PHONE,
                          text=None, idempotency_key=None, now=processed, received_at=received)


def _service_started(product: Services, number: str) -> bool:
    with product.uow(write=False) as uow:
        return find_case(uow, product.runtime, actor=SYSTEM, process_id="service_delivery",
                         business_key=number) is not None


def _nothing_waiting(product: Services, number: str) -> bool:
    with product.uow(write=False) as uow:
        return uow.inbox.pending_for(["proactive_reply"], number) == []


def test_a_reply_received_before_the_deadline_wins_when_the_timer_is_processed_first(product: Services) -> None:
    _delivered_offer(product, "ONTIME-1")
    fire_due_timers(product.write_uow, product.runtime, now=DEADLINE - timedelta(seconds=1))  # nothing due yet
    outcome = _reply(product, "ONTIME-1", received=DEADLINE - timedelta(milliseconds=1),
                     processed=DEADLINE + timedelta(minutes=3))
    assert outcome == "delivered"
    assert _service_started(product, "ONTIME-1") and _nothing_waiting(product, "ONTIME-1")


def test_a_reply_kept_before_the_deadline_is_taken_by_the_timer_sweep_before_it_closes_the_offer(
    product: Services,
) -> None:
    _delivered_offer(product, "ONTIME-2")
    with product.uow() as uow:  # the reply was kept (received 1 ms early) but not yet handed to the offer
        uow.inbox.add("proactive_reply", "ONTIME-2", {"consent": True, "phone": PHONE}, None,
                      DEADLINE - timedelta(milliseconds=1))
        uow.commit()
    fire_due_timers(product.write_uow, product.runtime, now=DEADLINE + timedelta(minutes=1))
    assert _service_started(product, "ONTIME-2") and _nothing_waiting(product, "ONTIME-2")


def test_a_reply_received_at_the_deadline_is_answered_closed_and_not_kept(product: Services) -> None:
    instance_id = _delivered_offer(product, "LATE-1")
    outcome = _reply(product, "LATE-1", received=DEADLINE, processed=DEADLINE)
    assert outcome == "closed"
    assert not _service_started(product, "LATE-1") and _nothing_waiting(product, "LATE-1")
    assert [m.message_name for m in sms_of(product, instance_id)][-1] == "sms.proactive_offer_closed"


def test_the_same_idempotency_key_with_another_body_is_a_conflict(
    api: FlaskClient, product: Services, tokens: dict[str, str],  # noqa: F811 - fixtures
) -> None:
    _delivered_offer(product, "KEY-1")
    headers = {"Authorization": f"Bearer {tokens['gateway']}", "Idempotency-Key": "k-1"}
    first = api.post("/api/v1/sms/replies", json={"offer_number": "KEY-1", "phone": PHONE, "consent": False},
                     headers=headers)
    assert first.status_code == 202
    again = api.post("/api/v1/sms/replies", json={"offer_number": "KEY-1", "phone": PHONE, "consent": False},
                     headers=headers)
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    other = api.post("/api/v1/sms/replies", json={"offer_number": "KEY-1", "phone": PHONE, "consent": True},
                     headers=headers)
    assert other.status_code == 409 and other.json["error"]["code"] == "conflict"
    assert not _service_started(product, "KEY-1")  # the refusal stands; the changed body moved nothing


RACES = 30
#: The worker's default settle (HOMESCHOOL_TIMER_SETTLE_SECONDS).
SETTLE = timedelta(seconds=5)


def _race(product: Services, number: str, sweep_at: datetime) -> str:
    """The reply (received 1 ms before the deadline, handled 1 ms after it) and the worker's sweep, at once."""
    barrier = threading.Barrier(2)
    said: list[str] = []

    def reply() -> None:
        barrier.wait()
        said.append(_reply(product, number, received=DEADLINE - timedelta(milliseconds=1),
                           processed=DEADLINE + timedelta(milliseconds=1)))

    def sweep() -> None:
        barrier.wait()
        fire_due_timers(product.write_uow, product.runtime, now=sweep_at, settle=SETTLE)

    threads = [threading.Thread(target=reply), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return said[0]


@pytest.mark.skipif(pg_url() is None, reason="a real race needs PostgreSQL's row locks (SQLite queues writers)")
def test_a_reply_one_millisecond_early_wins_the_race_with_the_worker(product: Services) -> None:
    outcomes: Counter[str] = Counter()
    for n in range(RACES):
        number = f"RACE-{n}"
        _delivered_offer(product, number)
        # the worker looks at the clock just after the deadline, while the reply is being handled
        said = _race(product, number, sweep_at=DEADLINE + timedelta(milliseconds=1 + n))
        fire_due_timers(product.write_uow, product.runtime, now=DEADLINE + SETTLE, settle=SETTLE)  # and later
        assert _nothing_waiting(product, number), f"{number}: the reply was left waiting in the inbox"
        outcomes[f"{said}, service {'started' if _service_started(product, number) else 'not started'}"] += 1
    print(f"reply 1 ms before the deadline vs the worker's sweep, {RACES} races: {dict(outcomes)}")
    assert outcomes == {"delivered, service started": RACES}


def test_the_worker_closes_a_silent_offer_once_the_settle_passed(product: Services) -> None:
    instance_id = _delivered_offer(product, "SILENT-1")
    fire_due_timers(product.write_uow, product.runtime, now=DEADLINE + SETTLE / 2, settle=SETTLE)
    with product.uow(write=False) as uow:
        assert uow.instances.get(instance_id).status == "running"  # type: ignore[union-attr]
    fire_due_timers(product.write_uow, product.runtime, now=DEADLINE + SETTLE, settle=SETTLE)
    with product.uow(write=False) as uow:
        assert uow.instances.get(instance_id).status == "completed"  # type: ignore[union-attr]
