"""Benchmark 2: the first page of a role's task list with 1,000, 10,000 and 100,000 open cases.

What the web page calls: ``list_tasks(uow, role="head", page=1, per_page=25)`` in its own read-only
unit of work (the page query plus the total count). Each size is its own database, bulk-seeded
straight into the tables (a ``process_instances`` row with a placeholder state and one open task
per case, the tasks spread over four lanes, so "head" holds a quarter of them); the repetitions
go round the sizes in turn, so a noisy moment on a shared machine hits every size alike.
Targets: p95 ≤ 20 ms at the largest size, and p95 there ≤ 1.5 × p95 at the smallest.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

from service.application.queries import list_tasks
from service.persistence.database import Database
from service.persistence.uow import UnitOfWork

from .common import Result, at, dialect_of, fresh_database, ms, percentile, progress, seed_placeholder_cases, settle

HOW = ("Each size is a separate fresh database bulk-seeded with INSERTs (one placeholder case and one open task "
       "per case, four lanes round robin); PostgreSQL then gets VACUUM ANALYZE (what autovacuum does), SQLite is "
       "left as the product leaves it. One call = `list_tasks(uow, role='head', page=1, per_page=25)` inside its "
       "own read-only unit of work (page query + count), timed with perf_counter; 10 warm-up calls per size, then "
       "the repetitions go round the sizes in turn. The ratio is p95 at the largest size over p95 at the smallest, "
       "from the same run.")

START = at("2025-01-06T09:00+05:00")
ROLE = "head"


def call(database: Database) -> float:
    """One task-list page as the web app asks for it; seconds."""
    started = time.perf_counter()
    with UnitOfWork(database, write=False) as uow:
        page = list_tasks(uow, role=ROLE, page=1, per_page=25)
    elapsed = time.perf_counter() - started
    assert len(page.items) == 25 and page.total > 0
    return elapsed


def measure(url: str, sizes: list[int], repetitions: int) -> list[Result]:
    """Seed one database per size, then time the page round the sizes."""
    label = dialect_of(url)
    with contextlib.ExitStack() as stack:
        databases: dict[int, Database] = {}
        for size in sizes:
            scoped = stack.enter_context(fresh_database(url))
            progress(f"{label}: seeding {size:,} open cases")
            seed_placeholder_cases(scoped, size, created_from=START - timedelta(seconds=size), label="cases")
            settle(scoped)
            database = Database(scoped)
            stack.callback(database.dispose)
            databases[size] = database
        for database in databases.values():
            for _ in range(10):
                call(database)
        timings: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(repetitions):
            for size, database in databases.items():
                timings[size].append(call(database))
    p50 = {size: percentile(values, 50) for size, values in timings.items()}
    p95 = {size: percentile(values, 95) for size, values in timings.items()}
    small, large = sizes[0], sizes[-1]
    figures = "; ".join(f"{size:,}: p50 {ms(p50[size])}, p95 {ms(p95[size])}" for size in sizes)
    ratio = p95[large] / p95[small]
    return [
        Result("2", f"Task list first page, role '{ROLE}', 25 rows ({label}, {repetitions} calls per size)",
               figures, f"p95 ≤ 20 ms at {large:,}", p95[large] <= 0.020),
        Result("2", f"Task list p95 growth {small:,} → {large:,} open cases ({label})",
               f"{ms(p95[large])} / {ms(p95[small])} → {ratio:.2f}×", "≤ 1.5×", ratio <= 1.5),
    ]


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 2 on each database given."""
    sizes = [1000, 3000] if quick else [1000, 10000, 100000]
    repetitions = 100 if quick else 200
    results: list[Result] = []
    for url in databases:
        results += measure(url, sizes, repetitions)
    return results
