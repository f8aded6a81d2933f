"""Benchmark 5: completing tasks over HTTP through the production server.

``gunicorn -w 2 -b 127.0.0.1:PORT 'service.web:create_app()'`` on a fresh PostgreSQL schema;
office applications are delivered first through the application services, so each case has one
open head task (determine the grade and language). Concurrent clients, each signed in as a head
like a browser (CSRF token from the form), open a task's page and submit its form, until the
tasks run out. Throughput is compared with benchmark 1's persisted case on the same database,
re-measured in this run just before (4 use cases per case → a per-step rate).
Target: HTTP throughput ≥ 50 % of that per-step rate.
"""

from __future__ import annotations

import queue
import secrets
import statistics
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from service.application.cases import deliver_message
from service.bootstrap import Services
from service.persistence.models import OpenTaskRow

from .b1_case import NOW, application, persisted_case
from .common import (
    BIN,
    CSRF,
    VERSION,
    Result,
    children,
    cpu_seconds,
    create_staff_user,
    free_port,
    http_ok,
    ms,
    owners,
    percentile,
    person,
    product_env,
    product_services,
    progress,
    running,
    school_id,
    scratch,
    web_sign_in,
)

HOW = ("gunicorn with 2 (sync) workers on 127.0.0.1, `HOMESCHOOL_COOKIE_SECURE=false`, a set secret key, on a fresh "
       "PostgreSQL schema; N office applications delivered beforehand through `deliver_message` (each case then "
       "has one head task); a staff account with the head role created through `create_staff`. Client threads in "
       "the bench process (`requests`), each signed in through the sign-in form, take task ids from a shared queue: "
       "GET /tasks/<id> (the form, its CSRF token and case version), then POST the grade and language (302 to the "
       "case page, not followed). Throughput = tasks completed / wall time from the start signal to the last "
       "client done; latency = GET + POST per task. Reference: benchmark 1's `persisted_case` on a fresh schema "
       "of the same server, timed in the same run just before and just after the HTTP run (3 warm-up cases each; the "
       "mean of the two is used), × 4 use cases per case. CPU per task: user + system time of the two gunicorn "
       "worker processes (/proc/<pid>/stat) and of the bench process (the client threads) over the run, divided by "
       "the tasks; the clients, the web workers and PostgreSQL share the machine's cores.")

PASSWORD = "bench-head-password-2026"


def reference_rate(url: str, cases: int) -> float:
    """Benchmark 1's persisted case on this database: use cases (steps) per second."""
    with product_services(url) as services:
        for i in range(3):
            persisted_case(services, f"REF-WARM-{i}")
        started = time.perf_counter()
        for i in range(cases):
            persisted_case(services, f"REF-{i}")
        return 4 * cases / (time.perf_counter() - started)


def seed(services: Services, count: int) -> list[str]:
    """``count`` office cases of the school, waiting for its head; their task ids."""
    belongs_to, clerk = owners(services), person(school_id(services), "office_clerk", login="clerk")
    for i in range(count):
        with services.uow() as uow:
            deliver_message(uow, services.runtime, actor=clerk, name="service_requested", business_key=f"HTTP-{i}",
                            payload=application(f"HTTP-{i}"), owners=belongs_to, now=NOW)
    with services.uow(write=False) as uow:
        return list(uow.session.execute(
            select(OpenTaskRow.task_id).where(OpenTaskRow.element_id == "determine_class_and_language")
        ).scalars())


def client(base: str, work: queue.Queue[str], start: threading.Barrier, stop_at: float,
           latencies: list[float], errors: list[str]) -> None:
    """One signed-in head completing tasks until none are left."""
    session = requests.Session()
    try:
        web_sign_in(session, base, "benchhead", PASSWORD)
    except Exception as exc:  # noqa: BLE001 (reported, not raised, so the other clients still finish)
        errors.append(f"sign-in: {exc}")
        start.abort()
        return
    try:
        start.wait(timeout=120)
    except threading.BrokenBarrierError:
        return
    while time.monotonic() < stop_at:
        try:
            task_id = work.get_nowait()
        except queue.Empty:
            return
        began = time.perf_counter()
        try:
            page = session.get(f"{base}/tasks/{task_id}", timeout=60)
            token, version = CSRF.search(page.text), VERSION.search(page.text)
            if page.status_code != 200 or token is None or version is None:
                errors.append(f"GET {task_id}: {page.status_code}")
                continue
            done = session.post(f"{base}/tasks/{task_id}", timeout=60, allow_redirects=False, data={
                "grade": "5", "language": "kk", "csrf_token": token.group(1), "version": version.group(1)})
            if done.status_code != 302 or "/cases/" not in done.headers.get("Location", ""):
                errors.append(f"POST {task_id}: {done.status_code}")
                continue
        except requests.RequestException as exc:
            errors.append(f"{task_id}: {exc}")
            continue
        latencies.append(time.perf_counter() - began)


def measure(url: str, tasks: int, clients: int, reference_cases: int, limit: float) -> Result:
    """Reference rate, then the HTTP run."""
    progress(f"reference: benchmark 1's persisted case × {reference_cases}")
    before = reference_rate(url, reference_cases)
    with product_services(url) as services, scratch("homeschool-bench-web-") as folder:
        label = services.database.dialect
        progress(f"{label}: delivering {tasks} office applications")
        task_ids = seed(services, tasks)
        assert len(task_ids) == tasks, len(task_ids)
        create_staff_user(services, "benchhead", PASSWORD, ["head"])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = product_env(services.settings.database_url, folder, HOMESCHOOL_COOKIE_SECURE="false",
                          HOMESCHOOL_SECRET_KEY=secrets.token_hex(32))
        log = Path(folder) / "gunicorn.log"
        args = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "service.web:create_app()"]
        with running(args, env, log, ready=lambda: http_ok(f"{base}/login")) as server:
            work: queue.Queue[str] = queue.Queue()
            for task_id in task_ids:
                work.put(task_id)
            latencies: list[float] = []
            errors: list[str] = []
            start = threading.Barrier(clients + 1)
            stop_at = time.monotonic() + limit
            threads = [threading.Thread(target=client, args=(base, work, start, stop_at, latencies, errors),
                                        daemon=True) for _ in range(clients)]
            for thread in threads:
                thread.start()
            web_workers = children(server.pid)
            start.wait(timeout=120)
            began, web_cpu, client_cpu = time.perf_counter(), sum(map(cpu_seconds, web_workers)), time.process_time()
            for thread in threads:
                thread.join(timeout=max(1.0, stop_at - time.monotonic() + 60))
            wall = time.perf_counter() - began
            web_cpu = sum(map(cpu_seconds, web_workers)) - web_cpu
            client_cpu = time.process_time() - client_cpu
        with services.uow(write=False) as uow:
            left = uow.session.execute(select(func.count()).select_from(OpenTaskRow).where(
                OpenTaskRow.element_id == "determine_class_and_language")).scalar_one()
    progress(f"reference again: benchmark 1's persisted case × {reference_cases}")
    after = reference_rate(url, reference_cases)
    reference = (before + after) / 2
    done = len(latencies)
    if errors or done != tasks - left:
        raise RuntimeError(f"{len(errors)} errors (first: {errors[:3]}); {done} timed, {tasks - left} completed")
    rate = done / wall
    share = rate / reference
    return Result(
        "5", f"Completing head tasks over HTTP, gunicorn -w 2, {clients} clients ({label}, {done} tasks)",
        f"{rate:.1f} tasks/s, latency p50 {ms(statistics.median(latencies))} p95 {ms(percentile(latencies, 95))}; "
        f"benchmark 1 persisted: {reference:.1f} steps/s (before {before:.1f}, after {after:.1f}) → {share:.0%}; "
        f"CPU per task: web workers {web_cpu / done * 1000:.1f} ms, clients {client_cpu / done * 1000:.1f} ms",
        "≥ 50 % of benchmark 1's per-step rate", share >= 0.5)


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 5 on PostgreSQL (on SQLite only if no PostgreSQL was given)."""
    servers = [url for url in databases if not url.startswith("sqlite")] or databases[:1]
    tasks, clients, reference_cases, limit = (40, 4, 10, 60.0) if quick else (400, 16, 50, 300.0)
    return [measure(servers[0], tasks, clients, reference_cases, limit)]
