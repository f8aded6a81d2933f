"""Incidents: one failing case is parked and retried with backoff; the sweep, the inbox, the outbox
and the worker carry on with every other case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.application.cases import start_case
from service.bootstrap import Services

from .support import SYSTEM, at, owners

RECEIVED = at("2026-03-20T17:00+05:00")


def _intake_case(services: Services, key: str) -> int:
    with services.uow() as uow:
        ref = start_case(uow, services.runtime, process_id="intake_demo", business_key=key,
                         data={"received_at": RECEIVED.isoformat()}, actor=SYSTEM, owners=owners(services),
                         now=RECEIVED)
    return ref.instance_id


# --- the repository --------------------------------------------------------------------------


def test_recording_twice_adds_a_try_to_the_one_open_incident(services: Services) -> None:
    case = _intake_case(services, "INC-1")
    later = RECEIVED + timedelta(minutes=5)
    with services.uow() as uow:
        first = uow.incidents.record(instance_id=case, kind="timer", error="boom", element_id="a",
                                     element_name="A", now=RECEIVED, next_try_at=later)
        second = uow.incidents.record(instance_id=case, kind="timer", error="boom again", element_id="b",
                                      element_name=None, now=later)
        uow.commit()
    assert second.id == first.id and second.tries == 2 and second.open
    assert (second.first_at, second.last_at, second.error, second.element_id) == (RECEIVED, later, "boom again", "b")
    assert (second.business_key, second.process_id) == ("INC-1", "intake_demo")
    assert second.diagram_version is not None and len(second.diagram_version) == 64
    with services.uow(write=False) as uow:
        assert uow.incidents.open_for(case) == second
        assert uow.incidents.count_open() == 1


def test_a_resolved_incident_leaves_room_for_a_new_one(services: Services) -> None:
    case = _intake_case(services, "INC-2")
    other = _intake_case(services, "INC-3")
    with services.uow() as uow:
        first = uow.incidents.record(instance_id=case, kind="task", error="x", element_id="e1",
                                     element_name=None, now=RECEIVED)
        uow.incidents.record(instance_id=other, kind="timer", error="y", element_id="e2",
                             element_name=None, now=RECEIVED)
        uow.incidents.resolve(first.id, by="admin", resolution="fixed by hand", now=RECEIVED + timedelta(hours=1))
        again = uow.incidents.record(instance_id=case, kind="message", error="z", element_id="e1",
                                     element_name=None, now=RECEIVED + timedelta(hours=2))
        uow.commit()
    assert again.id != first.id and again.tries == 1
    with services.uow(write=False) as uow:
        resolved = uow.incidents.listing(status="resolved")
        assert [(i.id, i.resolved_by, i.resolution) for i in resolved] == [(first.id, "admin", "fixed by hand")]
        assert not resolved[0].open
        assert {i.id for i in uow.incidents.listing()} == {again.id, uow.incidents.open_for(other).id}
        assert len(uow.incidents.listing(status="all")) == 3
        assert [i.kind for i in uow.incidents.listing(element_id="e2")] == ["timer"]
        assert [i.kind for i in uow.incidents.listing(kind="message")] == ["message"]
        assert uow.incidents.listing(process_id="nothing") == []
        assert uow.incidents.count_open() == 2


def test_the_database_refuses_two_open_incidents_for_one_case(services: Services) -> None:
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from service.persistence.models import IncidentRow

    case = _intake_case(services, "INC-4")
    row = {"instance_id": case, "kind": "timer", "error": "e", "first_at": RECEIVED, "last_at": RECEIVED,
           "tries": 1}
    with services.uow() as uow, pytest.raises(IntegrityError):
        uow.session.execute(insert(IncidentRow), [row, row])
