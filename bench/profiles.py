"""Where the time goes when a benchmark misses its target: ``python -m bench.profiles [1] [2] [3] [5] [--no-postgres]``.

1 — benchmark 1's task completions (N = 10): time per SQL statement and cProfile's top functions, per step.
2 — task list: one school's head's page query and count query timed apart at 1,000 and 100,000
    open cases over 7,500 schools, with each one's query plan (EXPLAIN on PostgreSQL, EXPLAIN
    QUERY PLAN on SQLite).
3 — timer firing: one sweep of the same number of due cases with few and with 100,000 pending
    timers; time per SQL statement (summed over the sweep) and cProfile's top functions.
5 — a task completed through the web app (Flask test client, same code as under gunicorn, no
    HTTP): time per SQL statement and cProfile's top functions for GET form + POST, per task.
Prints only; nothing is written.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, func, select, text

from service.application.cases import deliver_message
from service.application.queries import COUNT_CAP
from service.application.timers import fire_due_timers
from service.persistence.models import OpenTaskRow
from service.persistence.uow import UnitOfWork
from service.web import create_app

from .b2_task_list import ROLE, SCHOOLS, head_of, plans, seed
from .b3_timer_sweep import FAR, start_portal_cases
from .common import (
    CSRF,
    VERSION,
    at,
    create_staff_user,
    dialect_of,
    owners,
    percentile,
    person,
    product_services,
    school_id,
    seed_placeholder_cases,
    settle,
)
from .shipped_case import NOW, application


@contextmanager
def statement_times(engines: list[Engine]) -> Iterator[dict[str, list[float]]]:
    """Seconds per execution of each SQL statement run on ``engines`` while inside the block."""
    times: dict[str, list[float]] = defaultdict(list)

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        started = conn.info["bench_started"].pop()
        times[" ".join(statement.split())].append(time.perf_counter() - started)

    unique = list({id(e): e for e in engines}.values())
    for engine in unique:
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
    try:
        yield times
    finally:
        for engine in unique:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)


def print_statements(title: str, times: dict[str, list[float]], per: int, top: int = 15) -> None:
    """The statements taking the most time in all, per unit of work (``per``)."""
    total = sum(sum(v) for v in times.values())
    print(f"\n  {title}: SQL {total / per * 1000:.2f} ms per unit, {sum(map(len, times.values())) / per:.1f} "
          "statements per unit")
    for statement, values in sorted(times.items(), key=lambda kv: -sum(kv[1]))[:top]:
        print(f"    {sum(values) / per * 1000:7.3f} ms/unit  {len(values) / per:5.1f}×  "
              f"mean {statistics.mean(values) * 1000:6.3f} ms  {statement[:150]}")


def print_profile(title: str, profile: cProfile.Profile, per: int, top: int = 25) -> None:
    """cProfile's top functions by own time and by cumulative time, per unit."""
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        print(f"\n  {title} — cProfile by {key} (totals over {per} units):")
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
        for line in lines[start:start + top + 1]:
            print("    " + line)


def print_callees(profile: cProfile.Profile, per: int, *functions: str) -> None:
    """What each of ``functions`` (pstats patterns) spends its time in, totals over ``per`` units."""
    for function in functions:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats("cumulative").print_callees(function)
        print(f"\n  what {function} calls (totals over {per} units):")
        for line in out.getvalue().splitlines()[4:]:
            if line.strip() and not line.strip().endswith("objects}"):
                print("    " + line)


# --- 1: task completions of benchmark 1's case shape ---------------------------------------

def persisted(url: str, cases: int = 10, tasks: int = 10) -> None:
    """Benchmark 1's product steps (N tasks per case), against the floor, profiled."""
    from .b1_case import Cases, step_services
    from .floor import FloorStep

    label = dialect_of(url)
    print(f"\n=== 1: task completions, {cases} cases of {tasks} tasks ({label}) ===")
    with step_services(url) as services:
        raw = services.database.write_engine.raw_connection()
        try:
            steps = Cases(services, FloorStep(raw, services.database.dialect, services.engine))
            for _ in range(2):
                steps.product(tasks), steps.floor_case(tasks)
            floor = statistics.median(steps.floor_case(tasks) for _ in range(cases))
            profile = cProfile.Profile()
            with statement_times([services.database.write_engine, services.database.read_engine]) as times:
                profile.enable()
                product = statistics.median(steps.product(tasks) for _ in range(cases))
                profile.disable()
        finally:
            raw.close()
        per = cases * tasks
        print(f"  floor {floor * 1000:.2f} ms per step; product {product * 1000:.2f} ms (under the profiler; "
              "the reads finding each next task are counted below too)")
        print_statements("per step", times, per, top=20)
        print_profile("per step", profile, per, top=40)
        print_callees(profile, per, "cases.py:.*(complete_task)", "_running.py:.*(save_run)")


# --- 2: task list ---------------------------------------------------------------------------

def task_list(url: str, sizes: tuple[int, ...] = (1000, 100000), repetitions: int = 300) -> None:
    """Page and count timed apart, and their plans, per size (one school's head, as benchmark 2)."""
    label = dialect_of(url)
    print(f"\n=== 2: task list of one school's head (role '{ROLE}'), first page of 25, {SCHOOLS:,} schools "
          f"({label}) ===")
    for size in sizes:
        with product_services(url, demo_registry=False) as services:
            school = seed(services.settings.database_url, size, services.now())
            scope = [(school, frozenset({ROLE}))]
            database = services.database
            timings: dict[str, list[float]] = {"page": [], "count": [], "unit of work": []}
            for round_ in range(repetitions + 20):
                began = time.perf_counter()
                with UnitOfWork(database, write=False) as uow:
                    opened = time.perf_counter()
                    uow.tasks.page(scope=scope, limit=25, offset=0)
                    paged = time.perf_counter()
                    uow.tasks.count(scope=scope, cap=COUNT_CAP + 1)
                    counted = time.perf_counter()
                closed = time.perf_counter()
                if round_ >= 20:
                    timings["page"].append(paged - opened)
                    timings["count"].append(counted - paged)
                    timings["unit of work"].append((opened - began) + (closed - counted))
            with UnitOfWork(database, write=False) as uow:
                own = uow.tasks.count(scope=scope)
            print(f"\n  {size:,} open cases ({own:,} in lane '{ROLE}' of the measured school):")
            for part, values in timings.items():
                print(f"    {part:13} p50 {percentile(values, 50) * 1000:6.3f} ms   "
                      f"p95 {percentile(values, 95) * 1000:6.3f} ms")
            for part, plan in plans(services, head_of(school)).items():
                print(f"    plan of the {part} query:")
                for line in plan:
                    print(f"      {line}")


# --- 3: timer firing ------------------------------------------------------------------------

def timer_firing(url: str, due: int = 300, total: int = 100000) -> None:
    """The same sweep with only the due timers pending, and with ``total`` pending."""
    label = dialect_of(url)
    print(f"\n=== 3: firing {due} due timers with {due} vs {total:,} pending ({label}) ===")
    for pending in (due, total):
        with product_services(url) as services:
            warm = start_portal_cases(services, "WARM", 5, at("2026-03-13T10:00+05:00"))
            fire_due_timers(services.write_uow, services.runtime, now=warm + timedelta(minutes=1))
            deadline = start_portal_cases(services, "DUE", due, at("2026-03-20T17:00+05:00"))
            if pending > due:
                seed_placeholder_cases(services.settings.database_url, pending - due, tasks=False,
                                       created_from=at("2026-01-05T09:00+05:00"), timers_from=FAR)
                settle(services.settings.database_url)
            profile = cProfile.Profile()
            engines = [services.database.write_engine, services.database.read_engine]
            with statement_times(engines) as times:
                began = time.perf_counter()
                profile.enable()
                sweep = fire_due_timers(services.write_uow, services.runtime, now=deadline + timedelta(minutes=1),
                                        limit=due + 10)
                profile.disable()
                elapsed = time.perf_counter() - began
            assert len(sweep.fired) == due and not sweep.failed
            print(f"\n  {pending:,} pending: {elapsed / due * 1000:.2f} ms per fired timer (under the profiler)")
            print_statements(f"{pending:,} pending", times, due)
            print_profile(f"{pending:,} pending", profile, due, top=15)
            if label == "sqlite":
                with services.uow(write=False) as uow:
                    pages = uow.session.execute(text("PRAGMA page_count")).scalar_one()
                    cache = uow.session.execute(text("PRAGMA cache_size")).scalar_one()
                print(f"\n  database file: {pages:,} pages of 4 KiB; SQLite page cache setting {cache} "
                      "(negative = KiB per connection)")


# --- 5: a task through the web app ----------------------------------------------------------

def web_task(url: str, tasks: int = 100) -> None:
    """GET form + POST per task through create_app's WSGI app, profiled."""
    label = dialect_of(url)
    print(f"\n=== 5: completing head tasks through the web app, {tasks} tasks ({label}) ===")
    with product_services(url) as services:
        belongs_to, clerk = owners(services), person(school_id(services), "office_clerk", login="clerk")
        for i in range(tasks + 5):
            with services.uow() as uow:
                deliver_message(uow, services.runtime, actor=clerk, name="service_requested", business_key=f"WEB-{i}",
                                payload=application(f"WEB-{i}"), owners=belongs_to, now=NOW)
        create_staff_user(services, "benchhead", "bench-head-password-2026", ["head"])
        with services.uow(write=False) as uow:
            ids = list(uow.session.execute(select(OpenTaskRow.task_id).where(
                OpenTaskRow.element_id == "determine_class_and_language")).scalars())
        app = create_app(services.settings, services, SECRET_KEY=secrets.token_hex(16), SESSION_COOKIE_SECURE=False)
        client = app.test_client()
        page = client.get("/login")
        token = CSRF.search(page.text)
        assert token is not None
        answer = client.post("/login", data={"login": "benchhead", "password": "bench-head-password-2026",
                                             "csrf_token": token.group(1)})
        assert answer.status_code == 302, answer.status_code

        def one(task_id: str, split: dict[str, list[float]]) -> None:
            began = time.perf_counter()
            form = client.get(f"/tasks/{task_id}")
            got = time.perf_counter()
            csrf, version = CSRF.search(form.text), VERSION.search(form.text)
            assert form.status_code == 200 and csrf and version, form.status_code
            done = client.post(f"/tasks/{task_id}", data={"grade": "5", "language": "kk",
                                                         "csrf_token": csrf.group(1), "version": version.group(1)})
            assert done.status_code == 302, done.status_code
            split["GET /tasks/<id>"].append(got - began)
            split["POST /tasks/<id>"].append(time.perf_counter() - got)

        warm: dict[str, list[float]] = defaultdict(list)
        for task_id in ids[:5]:
            one(task_id, warm)
        split: dict[str, list[float]] = defaultdict(list)
        profile = cProfile.Profile()
        with statement_times([services.database.write_engine, services.database.read_engine]) as times:
            profile.enable()
            for task_id in ids[5:5 + tasks]:
                one(task_id, split)
            profile.disable()
        for part, values in split.items():
            p50, p95 = percentile(values, 50) * 1000, percentile(values, 95) * 1000
            print(f"  {part:18} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  (in-process, under the profiler)")
        print_statements("per task (GET + POST)", times, tasks)
        print_profile("per task (GET + POST)", profile, tasks)
        print_callees(profile, tasks, "tasks.py:.*(task_page)", "app.py:.*(full_dispatch_request)",
                      "queries.py:.*(task_context)")
        with services.uow(write=False) as uow:
            left = uow.session.execute(select(func.count()).select_from(OpenTaskRow).where(
                OpenTaskRow.element_id == "determine_class_and_language")).scalar_one()
        assert left == 0, left


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.profiles")
    parser.add_argument("which", nargs="*", default=["1", "2", "3", "5"])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    databases = ["sqlite"] + ([] if args.no_postgres else [args.postgres])
    jobs: dict[str, Callable[[str], None]] = {"1": persisted, "2": task_list, "3": timer_firing, "5": web_task}
    for which in args.which:
        for url in databases if which != "5" else databases[-1:]:
            jobs[which](url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
