"""Benchmark 2: a school head's first page of tasks with 1,000 and 100,000 open cases in the country.

What the task-list page calls for a person: ``list_tasks(uow, runtime, actor=<the head of one
school>, page=1, per_page=25)`` in its own read-only unit of work (the page query plus the capped
count), need to know applied: only the lanes the person holds, in their organisation. Each size is
its own database. The registry holds 7,500 schools (bulk-inserted, valid BINs: a country's worth)
and the open cases are spread over them, bulk-seeded straight into the tables (a
``process_instances`` row with a placeholder state and one open task per case, the tasks going
round four lanes). The measured school is a large one: it has a tenth of the cases, so its head
has 25 tasks at 1,000 cases and 2,500 at 100,000; the other cases go round the other 7,499 schools.
The repetitions go round the sizes in turn, so a noisy moment on a shared machine hits every size
alike. The page and count queries' plans are read (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
PostgreSQL) to check that they go through ``ix_open_tasks_org_lane_created`` (organisation, lane,
created, task) without sorting.
Targets: p95 ≤ 20 ms at the largest size, and p95 there ≤ 1.5 × p95 at the smallest.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from service.application.queries import list_tasks
from service.bootstrap import Services
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from .common import (
    Result,
    at,
    dialect_of,
    ms,
    percentile,
    person,
    product_services,
    progress,
    seed_placeholder_cases,
    seed_schools,
    settle,
)

HOW = ("Each size is a separate fresh database: 7,500 schools bulk-inserted into the registry (valid BINs), then "
       "one placeholder case and one open task per case bulk-seeded with INSERTs, the tasks going round four lanes; "
       "the measured school has every tenth block of four cases (a tenth of them, all lanes alike: its head has 25 "
       "tasks at 1,000 cases and 2,500 at 100,000), the other cases go round the other 7,499 schools. PostgreSQL "
       "then gets VACUUM ANALYZE (what autovacuum does), SQLite is left as the product leaves it. One call = "
       "`list_tasks(uow, runtime, actor=<a person with the role 'head' in that one school>, page=1, per_page=25)` "
       "inside its own read-only unit of work (page query + count capped at 1,000 past the page), timed with "
       "perf_counter and checked to return 25 of that school's head tasks; 10 warm-up calls per size, then the "
       "repetitions go round the sizes in turn. The ratio is p95 at the largest size over p95 at the smallest, "
       "from the same run. The plans of the two statements a call issues are read with the statements' own "
       "parameters (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL), per size. Search (bench/b2_search.py): "
       "the same seeding at 1,000, 10,000 and 100,000 cases plus one case_index row per case (a distinct child and "
       "applicant IIN and surname each); the head of the large school searches the inbox by a child's IIN and by "
       "their surname, and the case list by the IIN; each call is checked to find exactly that child's case.")

START = at("2025-01-06T09:00+05:00")
ROLE = "head"
#: The registry's size: about the number of schools in Kazakhstan.
SCHOOLS = 7500
INDEX = "ix_open_tasks_org_lane_created"


def seed(url: str, size: int, now: Any) -> int:
    """The registry and ``size`` open cases spread over it; the id of the measured (large) school."""
    schools = seed_schools(url, SCHOOLS, now)
    measured, others = schools[len(schools) // 2], [s for i, s in enumerate(schools) if i != len(schools) // 2]

    def owner(n: int) -> int:  # blocks of four cases (one per lane): every tenth block is the measured school's
        return measured if (n // 4) % 10 == 0 else others[n % len(others)]

    seed_placeholder_cases(url, size, created_from=START - timedelta(seconds=size), label="cases",
                           organisation_of=owner)
    settle(url)
    return measured


def head_of(school: int) -> Actor:
    """The measured person: the head of one school, holding no other role."""
    return person(school, ROLE, login="head")


def call(services: Services, head: Actor) -> float:
    """One task-list page as the web app asks for it; seconds."""
    started = time.perf_counter()
    with services.uow(write=False) as uow:
        page = list_tasks(uow, services.runtime, actor=head, page=1, per_page=25)
    elapsed = time.perf_counter() - started
    school = head.memberships[0].organisation_id
    assert len(page.items) == 25 and page.total >= 25, page
    assert all(task.organisation_id == school and task.lane == ROLE for task in page.items)
    return elapsed


@contextlib.contextmanager
def captured(services: Services) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) run on the read engine while inside the block."""
    statements: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    engine = services.database.read_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def plans(services: Services, head: Actor) -> dict[str, list[str]]:
    """The plans of the page and the count statement a call issues, with the statements' own parameters."""
    with captured(services) as statements, services.uow(write=False) as uow:
        list_tasks(uow, services.runtime, actor=head, page=1, per_page=25)
    queries = [(sql, params) for sql, params in statements if "open_tasks" in sql]
    assert len(queries) == 2, queries
    found: dict[str, list[str]] = {}
    with UnitOfWork(services.database, write=False) as uow:
        connection = uow.session
        for part, (sql, params) in zip(("page", "count"), queries, strict=True):
            if services.database.dialect == "sqlite":
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
                found[part] = [str(row[-1]) for row in rows]
            else:
                rows = connection.exec_driver_sql(f"EXPLAIN {sql}", params).all()
                found[part] = [str(row[0]) for row in rows]
    return found


def through_index(plan: list[str]) -> bool:
    """Whether a plan reads open_tasks through the task-list index and sorts nothing."""
    text = "\n".join(plan)
    return INDEX in text and "TEMP B-TREE" not in text and "Sort" not in text


def measure(url: str, sizes: list[int], repetitions: int) -> list[Result]:
    """Seed one database per size, then time the page round the sizes."""
    label = dialect_of(url)
    with contextlib.ExitStack() as stack:
        measured: dict[int, tuple[Services, Actor]] = {}
        for size in sizes:
            services = stack.enter_context(product_services(url, demo_registry=False))
            progress(f"{label}: seeding {SCHOOLS:,} schools and {size:,} open cases")
            school = seed(services.settings.database_url, size, services.now())
            measured[size] = (services, head_of(school))
        usage: dict[int, bool] = {}
        for size, (services, head) in measured.items():
            found = plans(services, head)
            usage[size] = all(through_index(plan) for plan in found.values())
            for part, plan in found.items():
                progress(f"{label}, {size:,} cases, plan of the {part} query: {' | '.join(plan)}")
            for _ in range(10):
                call(services, head)
        timings: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(repetitions):
            for size, (services, head) in measured.items():
                timings[size].append(call(services, head))
    p50 = {size: percentile(values, 50) for size, values in timings.items()}
    p95 = {size: percentile(values, 95) for size, values in timings.items()}
    small, large = sizes[0], sizes[-1]
    figures = "; ".join(f"{size:,}: p50 {ms(p50[size])}, p95 {ms(p95[size])}" for size in sizes)
    ratio = p95[large] / p95[small]
    return [
        Result("2", f"Task list first page of one school's head, 25 rows, {SCHOOLS:,} schools ({label}, "
                    f"{repetitions} calls per size)", figures, f"p95 ≤ 20 ms at {large:,}", p95[large] <= 0.020),
        Result("2", f"Task list p95 growth {small:,} → {large:,} open cases ({label})",
               f"{ms(p95[large])} / {ms(p95[small])} → {ratio:.2f}×", "≤ 1.5×", ratio <= 1.5),
        Result("2", f"Page and count queries read `{INDEX}` without sorting ({label})",
               "; ".join(f"{size:,}: {'yes' if usage[size] else 'no'}" for size in sizes),
               f"yes at {large:,}", usage[large]),
    ]


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 2 on each database given."""
    sizes = [1000, 3000] if quick else [1000, 100000]
    repetitions = 100 if quick else 200
    results: list[Result] = []
    for url in databases:
        results += measure(url, sizes, repetitions)
    from .b2_search import run as run_search  # search by IIN and name (its own databases: 1,000/10,000/100,000)

    return results + run_search(quick, databases)
