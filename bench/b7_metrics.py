"""Benchmark 7: one ``GET /metrics`` scrape's database work with 100,000 cases and a million log entries.

``read_figures`` is what the metrics endpoint runs per scrape. The database holds 100,000 stand-in
cases each waiting on a timer (100 of them due), a million event-log entries (one in ten
``task_completed``), 100,000 delivered outbox messages and 100 undelivered, 100,000 delivered
inbox messages and 50 kept, and 20 incidents (10 open). Measured: the first scrape of a process
(it counts the settled part of the log once; target ≤ 1 s), then the median and p95 of later
scrapes (target: median ≤ 50 ms), against a plain count of ``task_completed`` over the whole log
for comparison. Each scrape's figures are checked against what was seeded.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, bindparam, create_engine, insert, select, text

from service.application.metrics import EventTally, read_figures
from service.bootstrap import Services
from service.persistence.models import InboxMessage, OutboxMessage, ProcessInstance, UtcDateTime

from .common import Result, at, ms, percentile, product_services, progress, seed_placeholder_cases, settle

HOW = ("A fresh database per server with 100,000 stand-in cases (bulk-inserted rows, each with one pending "
       "timer; 100 due at the scrape instant), 1,000,000 event-log rows (every tenth `task_completed`), "
       "100,000 delivered and 100 undelivered outbox rows, 100,000 delivered and 50 kept inbox rows, 20 "
       "incidents (10 open), then PostgreSQL's VACUUM ANALYZE. `read_figures` in a read transaction, as the "
       "endpoint calls it: the first scrape with a new tally (what a fresh web process pays once), then "
       "median and p95 of the following scrapes; beside it, one `count(*) … WHERE action = 'task_completed'` "
       "over the whole log (what a scrape would cost without the settled tally).")

NOW = at("2026-06-01T12:00+05:00")
BATCH = 20_000


def _bulk(url: str, table: Table, rows: int, make: Callable[[int], dict[str, Any]], label: str) -> None:
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        done = 0
        while done < rows:
            size = min(BATCH, rows - done)
            with engine.begin() as connection:
                connection.execute(insert(table), [make(done + i) for i in range(size)])
            done += size
        progress(f"seeded {rows:,} {label} ({time.perf_counter() - started:.1f} s)")
    finally:
        engine.dispose()


def _seed_events(url: str, events: int) -> None:
    """``events`` event-log rows generated inside the database (every tenth ``task_completed``)."""
    engine = create_engine(url)
    started = time.perf_counter()
    postgres = engine.dialect.name == "postgresql"
    series = ("SELECT generate_series(0, :last) AS n" if postgres else
              "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < :last) SELECT n FROM s")
    statement = text(
        "INSERT INTO event_log (at, actor, action, details) SELECT :at, 'bench', "
        "CASE WHEN n % 10 = 0 THEN 'task_completed' ELSE 'step' END, " + ("'{}'::json" if postgres else "'{}'")
        + f" FROM ({series}) AS series"
    ).bindparams(bindparam("at", type_=UtcDateTime()))
    try:
        with engine.begin() as connection:
            connection.execute(statement, {"at": NOW - timedelta(days=1), "last": events - 1})
        progress(f"seeded {events:,} event-log rows ({time.perf_counter() - started:.1f} s)")
    finally:
        engine.dispose()


def _seed(services: Services, url: str, cases: int, events: int, due: int) -> None:
    seed_placeholder_cases(url, cases, created_from=NOW - timedelta(days=30), tasks=False,
                           timers_from=NOW - timedelta(seconds=due - 1), label="cases with timers")
    outbox_t: Table = OutboxMessage.__table__  # type: ignore[assignment]
    inbox_t: Table = InboxMessage.__table__  # type: ignore[assignment]
    _seed_events(url, events)
    _bulk(url, outbox_t, cases + 100, lambda n: {
        "channel": ("monitoring", "portal_cabinet", "sms")[n % 3], "message_name": "bench.message",
        "idempotency_key": f"bench-out-{n}", "instance_id": None, "business_key": None, "payload": {},
        "created_at": NOW - timedelta(days=2), "attempts": 1, "next_attempt_at": NOW,
        "delivered_at": NOW - timedelta(days=1) if n >= 100 else None, "delivered_to": None,
        "last_error": None}, "outbox rows")
    _bulk(url, inbox_t, cases + 50, lambda n: {
        "message_name": "bench_reply", "business_key": f"BENCH-{n}", "payload": {}, "idempotency_key": f"in-{n}",
        "received_at": NOW - timedelta(days=2), "delivered_at": NOW - timedelta(days=1) if n >= 50 else None,
        "instance_id": None}, "inbox rows")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            ids = [int(i) for i in connection.execute(select(ProcessInstance.id).order_by(ProcessInstance.id)
                                                      .limit(20)).scalars()]
    finally:
        engine.dispose()
    with services.uow() as uow:
        for n, case in enumerate(ids):
            incident = uow.incidents.record(instance_id=case, kind="timer", error="bench", element_id=None,
                                            element_name=None, now=NOW)
            if n % 2:
                uow.incidents.resolve(incident.id, by="bench", resolution="bench", now=NOW)
        uow.commit()
    settle(url)


def measure(url: str, cases: int, events: int, due: int, repetitions: int) -> list[Result]:
    """Seed one database and time the scrapes."""
    with product_services(url) as services:
        database = services.database.dialect
        _seed(services, services.settings.database_url, cases, events, due)
        expected = {"timers_due": due, "outbox": 100, "inbox": 50, "tasks": (events + 9) // 10, "incidents": 10}
        tally = EventTally("task_completed")

        def scrape() -> float:
            began = time.perf_counter()
            with services.uow(write=False) as uow:
                figures = read_figures(uow, tally, NOW)
            took = time.perf_counter() - began
            seen = {"timers_due": figures.timers_due, "outbox": sum(figures.outbox_backlog.values()),
                    "inbox": figures.inbox_kept, "tasks": figures.tasks_completed,
                    "incidents": figures.open_incidents}
            assert seen == expected, (seen, expected)
            return took

        cold = scrape()
        warm = [scrape() for _ in range(repetitions)]
        began = time.perf_counter()
        with services.uow(write=False) as uow:
            uow.operations.count_actions("task_completed", 0)
        plain = time.perf_counter() - began
    median = statistics.median(warm)
    return [
        Result("7", f"metrics scrape, first of a process ({database}, {cases:,} cases, {events:,} log rows)",
               ms(cold), "≤ 1 s (once per process)", cold <= 1.0),
        Result("7", f"metrics scrape, later ones ({database}), median / p95; full-log count for comparison",
               f"{ms(median)} / {ms(percentile(warm, 95))}; {ms(plain)}", "median ≤ 50 ms", median <= 0.050),
    ]


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 7 on each database given."""
    cases, events, due, repetitions = (1000, 10_000, 10, 10) if quick else (100_000, 1_000_000, 100, 50)
    results: list[Result] = []
    for url in databases:
        results += measure(url, cases, events, due, repetitions)
    return results
