"""Benchmark 1: a full service-delivery case, persisted, against the same diagram run in memory.

Office acceptance through the admission order: the application arrives, the receipt is issued,
the head sets grade and language, the specialist organises schooling, the head issues the order.
Persisted: every step is its own use case and transaction through the application services
(what the web app and the worker do). In memory: the same ProcessEngine runs the same diagram
with no database and no serialization. Target: persisted time per case ≤ 2.0 × in-memory time.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from service.application.cases import complete_task, deliver_message
from service.bootstrap import Services
from service.domain.identity import make_iin

from .common import SCHOOL, Result, at, owners, person, product_services, school_id

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


def measure(services: Services, cases: int, label: str) -> Result:
    """Time both ways on this database; returns per-case milliseconds and the ratio."""
    for i in range(5):  # warm-up: caches, compiled scripts, connection pool
        in_memory_case(services, f"WARM-M-{i}")
        persisted_case(services, f"WARM-P-{label}-{i}")
    started = time.perf_counter()
    for i in range(cases):
        in_memory_case(services, f"M-{i}")
    memory = (time.perf_counter() - started) / cases
    started = time.perf_counter()
    for i in range(cases):
        persisted_case(services, f"P-{label}-{i}")
    persisted = (time.perf_counter() - started) / cases
    ratio = persisted / memory
    return Result(
        "1", f"Full case persisted vs in memory ({label}, {cases} cases)",
        f"in memory {memory * 1000:.1f} ms, persisted {persisted * 1000:.1f} ms per case → {ratio:.2f}×",
        "≤ 2.0×", ratio <= 2.0,
    )


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 1 on each database given."""
    cases = 20 if quick else 200
    results = []
    for url in databases:
        with product_services(url) as services:
            results.append(measure(services, cases, services.database.dialect))
    return results
