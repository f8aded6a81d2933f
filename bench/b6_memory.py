"""Benchmark 6: peak memory of a web worker and of ``homeschool worker`` with many cases.

The same load on two databases, one with few cases and one with many: a gunicorn worker process
(``gunicorn -w 1``) serving task-list pages of every lane (first pages, later pages, the last page)
and the task pages of real cases, and a ``homeschool worker`` firing the due timers of real cases
and then sweeping idle. Each database holds real cases started through the application services
(office applications waiting for the head, portal requests whose deadline has passed) plus
bulk-inserted placeholder cases, each with an open task and a timer due in 2030. Peak RSS is
VmHWM from /proc/<pid>/status, read while both processes still run. Target: many / few ≤ 1.2×.
"""

from __future__ import annotations

import math
import secrets
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from service.application.cases import deliver_message
from service.bootstrap import Services
from service.domain.staff import Actor
from service.persistence.models import EventLogEntry, OpenTaskRow

from .b1_case import NOW, application
from .b3_timer_sweep import portal_request
from .common import (
    BIN,
    LANES,
    Result,
    at,
    children,
    create_staff_user,
    free_port,
    http_ok,
    owners,
    peak_rss_kib,
    person,
    product_env,
    product_services,
    progress,
    running,
    school_id,
    scratch,
    seed_placeholder_cases,
    settle,
    tail,
    web_sign_in,
)

HOW = ("Per database and size: real cases through `deliver_message` (office applications → head tasks; portal "
       "requests received 2026-03-02, so their deadline timers are due), plus bulk-inserted placeholder cases up to "
       "the size, each with an open task (four lanes) and a timer due in 2030. Then `gunicorn -w 1` (the one worker "
       "serves everything) and `homeschool worker` run side by side. A client signed in with all four lanes' roles "
       "asks, twice over, for pages 1, 2, 3 and the last page of each lane's task list, and then opens every real "
       "task's page; the worker fires the due timers (checked in the event log) and sweeps idle a little longer. "
       "Peak RSS = VmHWM of the gunicorn worker process and of the `homeschool worker` process, read before they "
       "are stopped (SIGTERM).")

PASSWORD = "bench-staff-password-2026"
ROLES = [lane for lane, _ in LANES]
MIB = 1024


def seed(services: Services, size: int, real: int) -> int:
    """``real`` office and ``real`` overdue portal cases, then placeholder cases up to ``size``; due timers."""
    belongs_to, school = owners(services), school_id(services)
    clerk, portal = person(school, "office_clerk", login="clerk"), Actor.client("portal")
    for i in range(real):
        with services.uow() as uow:
            deliver_message(uow, services.runtime, actor=clerk, name="service_requested", business_key=f"MEM-O-{i}",
                            payload=application(f"MEM-O-{i}"), owners=belongs_to, now=NOW)
        received = at("2026-03-02T10:00+05:00")
        with services.uow() as uow:
            deliver_message(uow, services.runtime, actor=portal, name="service_requested", business_key=f"MEM-P-{i}",
                            payload=portal_request(f"MEM-P-{i}", received), owners=belongs_to, now=received)
    seed_placeholder_cases(services.settings.database_url, size - 2 * real, created_from=at("2025-01-06T09:00+05:00"),
                           timers_from=at("2030-01-01T00:00+05:00"), label="placeholder cases",
                           organisation_of=lambda n: school)
    settle(services.settings.database_url)
    return real


def browse(base: str, services: Services) -> int:
    """Task lists of every lane (first, later, last pages) and every real task's page; requests made."""
    session = requests.Session()
    web_sign_in(session, base, "benchstaff", PASSWORD)
    with services.uow(write=False) as uow:
        counts = {role: uow.tasks.count(lane=role) for role in ROLES}
        real = list(uow.session.execute(select(OpenTaskRow.task_id).where(
            OpenTaskRow.business_key.like("MEM-%"))).scalars())
    requests_made = 0
    for _ in range(2):
        for role in ROLES:
            last = max(1, math.ceil(counts[role] / 25))
            for page in sorted({1, 2, 3, last}):
                answer = session.get(f"{base}/tasks", params={"role": role, "page": str(page)}, timeout=60)
                if answer.status_code != 200:
                    raise RuntimeError(f"task list {role} page {page}: {answer.status_code}")
                requests_made += 1
    for task_id in real:
        answer = session.get(f"{base}/tasks/{task_id}", timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"task page {task_id}: {answer.status_code}")
        requests_made += 1
    return requests_made


def fired(services: Services) -> int:
    """Timers fired so far."""
    with services.uow(write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(EventLogEntry).where(
            EventLogEntry.action == "timer_fired")).scalar_one())


def peaks(url: str, size: int, real: int, idle: float) -> tuple[int, int, int]:
    """(web worker KiB, homeschool worker KiB, requests) for one database of ``size`` cases."""
    with product_services(url) as services, scratch("homeschool-bench-memory-") as folder:
        label = services.database.dialect
        progress(f"{label}: seeding {size:,} cases ({2 * real} real)")
        due = seed(services, size, real)
        create_staff_user(services, "benchstaff", PASSWORD, ROLES)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = product_env(services.settings.database_url, folder, HOMESCHOOL_COOKIE_SECURE="false",
                          HOMESCHOOL_SECRET_KEY=secrets.token_hex(32))
        web_log, worker_log = Path(folder) / "gunicorn.log", Path(folder) / "worker.log"
        web_args = [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "service.web:create_app()"]
        with running(web_args, env, web_log, ready=lambda: http_ok(f"{base}/login")) as web, \
                running([str(BIN / "homeschool"), "worker"], env, worker_log,
                        ready=lambda: "worker started" in worker_log.read_text(errors="replace")) as worker:
            made = browse(base, services)
            deadline = time.monotonic() + 60
            while fired(services) < due and time.monotonic() < deadline:
                time.sleep(0.1)
            if fired(services) < due:
                raise RuntimeError(f"the worker fired {fired(services)} of {due} due timers: {tail(worker_log)}")
            time.sleep(idle)  # idle sweeps over every pending timer
            workers = children(web.pid)
            if len(workers) != 1:
                raise RuntimeError(f"expected one gunicorn worker, found {workers}: {tail(web_log)}")
            web_peak, worker_peak = peak_rss_kib(workers[0]), peak_rss_kib(worker.pid)
    return web_peak, worker_peak, made


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 6 on each database given."""
    few, many, real, idle = (200, 1000, 10, 1.0) if quick else (1000, 100000, 20, 3.0)
    results: list[Result] = []
    for url in databases:
        label = "sqlite" if url.startswith("sqlite") else "postgresql"
        small = peaks(url, few, real, idle)
        large = peaks(url, many, real, idle)
        for index, name in ((0, "gunicorn web worker (task lists and task pages)"),
                            (1, "`homeschool worker` (firing, then idle sweeps)")):
            ratio = large[index] / small[index]
            results.append(Result(
                "6", f"Peak RSS of the {name}, {few:,} vs {many:,} cases ({label})",
                f"{small[index] / MIB:.1f} MiB vs {large[index] / MIB:.1f} MiB → {ratio:.2f}×"
                + (f" ({large[2]} requests)" if index == 0 else ""),
                "≤ 1.2×", ratio <= 1.2))
    return results
