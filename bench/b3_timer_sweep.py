"""Benchmark 3: the timer sweep with many pending timers — none due, and 1,000 due among 100,000.

``fire_due_timers`` is what ``homeschool worker`` calls every pass. First, one sweep when
nothing is due, with 100,000 timers pending (target: median ≤ 5 ms). Then the cost per fired
timer when 1,000 are due, with only those 1,000 pending and with 99,000 more that are not due:
if the sweep reads only due timers through its index, the cost per fired timer is the same
either way (target: ≤ 1.5×). The due timers are real: portal requests started through the
application services on the shipped ``service_delivery`` diagram, each with its 2-working-day
deadline timer; the sweep runs at an instant after the deadline, so each case resumes, fires its
boundary timer and escalates to the head. The other timers are bulk-inserted rows (with
placeholder case rows) due in 2030.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from service.application.cases import deliver_message
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.domain.identity import make_iin
from service.domain.staff import Actor
from service.persistence.models import PendingTimerRow

from .common import (
    SCHOOL,
    Result,
    at,
    ms,
    owners,
    percentile,
    product_services,
    progress,
    seed_placeholder_cases,
    settle,
)

HOW = ("Two fresh databases per server. In each, real due timers: portal applications delivered through "
       "`deliver_message` on the shipped diagram (each waits on its 2-working-day boundary timer); in the second, "
       "also bulk-inserted not-due timer rows (placeholder case rows, due in 2030) up to the total. Empty sweep: "
       "`fire_due_timers(now=2026-01-01)` (before every timer) on the second database, median and p95 of the "
       "repetitions after 5 warm-up sweeps. Firing: sweeps `fire_due_timers(now=deadline + 1 min, limit=chunk)` "
       "alternate between the two databases (which one goes first alternating too) until every due timer has "
       "fired (each sweep checked to fire exactly its chunk, none failed), so a noisy moment hits both alike; "
       "per-fire cost = sweep time / timers fired, averaged. A few warm cases are fired first in each database. "
       "PostgreSQL gets VACUUM ANALYZE after the bulk load.")

WARM = 5
TAKE_FROM = "2026-01-01T00:00+05:00"
FAR = at("2030-01-01T00:00+05:00")
CHILD = make_iin(date(2015, 4, 2), "male", 1)
PARENT = make_iin(date(1985, 6, 15), "female", 7)


def portal_request(number: str, received: datetime) -> dict[str, Any]:
    """A complete portal request (no identity document needed: it comes from the state systems)."""
    return {
        "application_number": number, "channel": "portal", "received_at": received.isoformat(),
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT, "phone": "+77011234567", "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD, "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion"], "provider_bin": SCHOOL,
    }


def start_portal_cases(services: Services, prefix: str, count: int, received: datetime) -> datetime:
    """``count`` portal cases received at ``received``; returns their (common) timer deadline."""
    started = time.perf_counter()
    belongs_to, portal = owners(services), Actor.client("portal")
    for i in range(count):
        number = f"{prefix}-{i}"
        with services.uow() as uow:
            receipt = deliver_message(uow, services.runtime, actor=portal, name="service_requested",
                                      business_key=number, payload=portal_request(number, received),
                                      owners=belongs_to, now=received)
        assert receipt.outcome == "started", receipt
        if (i + 1) % 250 == 0 or i + 1 == count:
            progress(f"started {i + 1:,}/{count:,} real portal cases {prefix} ({time.perf_counter() - started:.1f} s)")
    with services.uow(write=False) as uow:
        latest = uow.session.execute(select(func.max(PendingTimerRow.fire_at))).scalar_one()
    assert latest is not None
    return latest  # type: ignore[no-any-return]


def pending(services: Services) -> int:
    """Timers pending in all."""
    with services.uow(write=False) as uow:
        return uow.timers.count()


def sweep(services: Services, now: datetime, expected: int) -> float:
    """One sweep that must fire exactly ``expected`` cases; seconds per fired timer."""
    started = time.perf_counter()
    result = fire_due_timers(services.write_uow, services.runtime, now=now, limit=expected)
    elapsed = time.perf_counter() - started
    if result.failed or len(result.fired) != expected:
        raise RuntimeError(f"sweep fired {len(result.fired)} of {expected}, failed {result.failed}")
    return elapsed / expected


def measure(url: str, due: int, total: int, repetitions: int, chunk: int) -> list[Result]:
    """Both figures: two fresh databases, one with only the due timers, one with ``total`` timers."""
    with product_services(url) as few, product_services(url) as many:
        label = few.database.dialect
        deadlines = []
        for services, name in ((few, "FEW"), (many, "MANY")):
            warm = start_portal_cases(services, "WARM", WARM, at("2026-03-13T10:00+05:00"))
            sweep(services, warm + timedelta(minutes=1), WARM)
            deadlines.append(start_portal_cases(services, name, due, at("2026-03-20T17:00+05:00")))
        assert deadlines[0] == deadlines[1]
        progress(f"{label}: bulk-inserting {total - due:,} timers not due")
        seed_placeholder_cases(many.settings.database_url, total - due, created_from=at("2026-01-05T09:00+05:00"),
                               tasks=False, timers_from=FAR, label="not-due timers")
        settle(few.settings.database_url)
        settle(many.settings.database_url)
        only_due, all_timers = pending(few), pending(many)
        assert only_due == due and all_timers == total, (only_due, all_timers)
        early = at(TAKE_FROM)
        for _ in range(5):
            fire_due_timers(many.write_uow, many.runtime, now=early)
        empty: list[float] = []
        for _ in range(repetitions):
            started = time.perf_counter()
            result = fire_due_timers(many.write_uow, many.runtime, now=early)
            empty.append(time.perf_counter() - started)
            assert not result.fired and not result.failed
        per_fire: dict[str, list[float]] = {"few": [], "many": []}
        turns = [("few", few, deadlines[0]), ("many", many, deadlines[1])]
        for round_ in range(due // chunk):  # in turn (first one, then the other first), so noise hits both alike
            for name, services, deadline in turns if round_ % 2 == 0 else turns[::-1]:
                per_fire[name].append(sweep(services, deadline + timedelta(minutes=1), chunk))
        assert pending(few) == 0 and pending(many) == total - due
    median = statistics.median(empty)
    per_fire_few, per_fire_many = statistics.mean(per_fire["few"]), statistics.mean(per_fire["many"])
    ratio = per_fire_many / per_fire_few
    return [
        Result("3", f"Timer sweep, none due, {all_timers:,} pending ({label}, {repetitions} sweeps)",
               f"median {ms(median)}, p95 {ms(percentile(empty, 95))}", "median ≤ 5 ms", median <= 0.005),
        Result("3", f"Firing {due:,} due timers: per fired timer with {only_due:,} vs {all_timers:,} pending ({label})",
               f"{ms(per_fire_few)} vs {ms(per_fire_many)} per timer → {ratio:.2f}×",
               "≤ 1.5× (cost follows the due timers, not all timers)", ratio <= 1.5),
    ]


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 3 on each database given."""
    due, total, repetitions, chunk = (50, 3000, 30, 10) if quick else (1000, 100000, 200, 50)
    results: list[Result] = []
    for url in databases:
        results += measure(url, due, total, repetitions, chunk)
    return results
