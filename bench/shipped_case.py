"""The shipped service-delivery case (office acceptance through the admission order), two ways.

The application arrives, the receipt is issued, the head sets grade and language, the specialist
organises schooling, the head issues the order. ``persisted_case`` runs every step as its own use
case and transaction through the application services; ``in_memory_case`` runs the same diagram in
the engine alone. Used by benchmarks 5 and 6, the script-guard figures and the profiles.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from service.application.cases import complete_task, deliver_message
from service.bootstrap import Services
from service.domain.identity import make_iin

from .common import SCHOOL, at, owners, person, school_id

CHILD = make_iin(date(2015, 4, 2), "male", 1)
PARENT = make_iin(date(1985, 6, 15), "female", 7)
NOW = at("2026-03-20T11:00+05:00")
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("head", {"grade": 5, "language": "kk"}),
    ("specialist", {"teachers": [{"full_name": "Серікова Д.", "subject": "Математика"}], "weekly_hours": 8,
                    "curriculum_reference": "ИУП-5", "period_start": "2026-04-01", "period_end": "2026-12-31"}),
    ("head", {"order_number": "45-ж", "order_date": "2026-03-31"}),
]


def application(number: str) -> dict[str, Any]:
    """A complete office application."""
    return {
        "application_number": number, "channel": "office", "received_at": NOW.isoformat(),
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT, "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD, "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion", "identity_document"], "provider_bin": SCHOOL,
    }


def in_memory_case(services: Services, number: str) -> None:
    """The case in SpiffWorkflow only: start on the message, complete the three tasks."""
    run = services.engine.start("service_delivery", {}, NOW)
    run.deliver_message("service_requested", application(number), NOW)
    for _, data in STEPS:
        task = run.snapshot().open_tasks[0]
        run.complete_task(task.task_id, data, NOW)
    assert run.snapshot().completed


def persisted_case(services: Services, number: str) -> None:
    """The case through the application services, one transaction per step, done by the school's staff."""
    belongs_to, school = owners(services), school_id(services)
    clerk = person(school, "office_clerk", login="clerk")
    with services.uow() as uow:
        receipt = deliver_message(uow, services.runtime, actor=clerk, name="service_requested", business_key=number,
                                  payload=application(number), owners=belongs_to, now=NOW)
    case = receipt.instance_id
    assert case is not None
    for role, data in STEPS:
        with services.uow(write=False) as uow:
            task = uow.tasks.for_instance(case)[0]
        with services.uow() as uow:
            complete_task(uow, services.runtime, actor=person(school, role, login=role), task_id=task.task_id,
                          data=data, now=NOW)
