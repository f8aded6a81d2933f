"""Benchmark 9: throughput on PostgreSQL with several OS processes — task completions, and timers fired.

Task completions: 1, 2 and 4 OS processes (``multiprocessing``, spawned: each builds the product's
services itself) complete tasks through the application services, the way the web app does per
request: read the case's open task, then ``complete_task`` in its own unit of work (lock, form
check, engine, state with the version check, open-task projection, event log, commit). Each
process owns 20 cases of ``bench/loop_case.py``'s loop (a task reopened after each completion;
cases pre-created, one step done as warm-up; quick mode: 3 cases) and goes round them; all start together at a barrier
and count completions for a fixed time. Reported: completions per second in all, the ratio to
one process, and the completing processes' own CPU time per completion (the same with more
processes: they do not get in each other's way, and what is missing is free cores). While they run,
the bench samples the server's sessions of the benchmark (``pg_stat_activity``, by application
name) every 20 ms and reports how many samples caught one waiting on a lock. Target: two
processes ≥ 1.8 × one.

Timers: portal applications are started through the application services on the shipped diagram
(each waits on its 2-working-day boundary timer, already past by the real clock), with their
timers held back (``fire_at`` moved to 2100); 1 or 2 ``.venv/bin/homeschool worker`` subprocesses
(default poll) are started one after another (workers starting at the same instant race to deploy
the shipped files, and one exits), and once every one has logged that it started, the timers are
released in one UPDATE (``fire_at = due_at``). The bench polls the count of pending timers
every 20 ms; timers per second = timers fired ÷ (the moment none is left − the moment the first
was seen fired); the workers' own CPU time per timer is reported beside. Each firing resumes the
case, fires the boundary timer, escalates to the head (a new task and its outbox message, which
the worker also delivers), all in the worker's own transactions; what starting the cases queued
in the outbox is delivered before the workers start. Target: two workers ≥ 1.8 × one as well.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text, update

from service.application.cases import complete_task
from service.application.outbox import deliver_outbox
from service.bootstrap import build_services
from service.config import Settings
from service.persistence.database import driver_url
from service.persistence.models import PendingTimerRow

from . import loop_case
from .b3_timer_sweep import start_portal_cases
from .b8_growth import NOW, LoopCase, loop_services
from .common import (
    BIN,
    PROJECT,
    Result,
    at,
    cpu_seconds,
    dialect_of,
    person,
    product_env,
    product_services,
    progress,
    school_id,
    scratch,
    tail,
)
from .common import stop as stop_process

HOW = (__doc__ or "").strip()
TARGET = 1.8
PROCESSES = (1, 2, 4)
#: Cases each completing process owns: full and quick.
CASES_PER_PROCESS = {False: 20, True: 3}
#: Seconds each count of processes runs for: full and quick.
DURATION = {False: 8.0, True: 1.5}
#: Timers per run: full and quick.
TIMERS = {False: 600, True: 40}
WORKERS = (1, 2)
HELD_BACK = at("2100-01-01T00:00+05:00")


APPLICATION = "homeschool-bench-9"


def _named(url: str) -> str:
    """``url`` with the bench's application name, so its sessions can be told apart on the server."""
    return f"{url}{'&' if '?' in url else '?'}application_name={APPLICATION}"


class LockWatch:
    """Samples the server's sessions of this benchmark every 20 ms: how often one of them waits on a lock."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(driver_url(url))
        self._stop = threading.Event()
        self.samples = 0
        self.busy = 0
        self.lock_waits: collections.Counter[str] = collections.Counter()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        query = text("SELECT state, wait_event_type, left(query, 80) FROM pg_stat_activity "
                     "WHERE application_name = :name AND pid <> pg_backend_pid()")
        with self._engine.connect() as connection:
            while not self._stop.is_set():
                rows = connection.execute(query, {"name": APPLICATION}).all()
                connection.commit()
                self.samples += 1
                self.busy += any(state == "active" for state, _wait, _query in rows)
                for _state, wait, statement in rows:
                    if wait == "Lock":
                        self.lock_waits[statement] += 1
                self._stop.wait(0.02)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._engine.dispose()

    def summary(self) -> str:
        """How many samples saw a session of the benchmark waiting on a lock."""
        waited = sum(self.lock_waits.values())
        worst = f" (most: {self.lock_waits.most_common(1)[0][0]!r})" if waited else ""
        return f"lock waits in {waited} of {self.samples} samples{worst}"


def _completer(env: dict[str, str], cases: list[int], school: int, start: Any, duration: float,
               results: Any) -> None:
    """One OS process: complete the open task of ``cases`` in turn for ``duration`` seconds after ``start``."""
    settings = Settings.from_env(env, base=PROJECT)
    services = build_services(settings)
    actor = person(school, loop_case.LANE, login="specialist")
    done = 0
    try:
        def once(case: int, number: int) -> None:
            with services.uow(write=False) as uow:
                [task] = uow.tasks.for_instance(case)
            with services.uow() as uow:
                complete_task(uow, services.runtime, actor=actor, task_id=task.task_id,
                              data=loop_case.answers(number), now=NOW)

        once(cases[0], 0)  # warm-up: connections, the diagram and its form parsed
        start.wait()
        began, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - began < duration:
            once(cases[done % len(cases)], done + 1)
            done += 1
        results.put((done, time.perf_counter() - began, time.process_time() - cpu))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put((-1, repr(exc), 0.0))
    finally:
        services.database.dispose()


def _gather(children: list[Any], start: Any, results: Any, timeout: float) -> list[tuple[int, Any, float]]:
    """What each completing process reported; fails if one dies or the lot outlasts ``timeout`` seconds."""
    found: list[tuple[int, Any, float]] = []
    deadline = time.monotonic() + timeout
    while len(found) < len(children):
        try:
            found.append(results.get(timeout=1))
        except queue.Empty:
            dead = [child.exitcode for child in children if child.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                start.abort()
                raise RuntimeError(f"a completing process died or hung (exit codes {dead})") from None
    for child in children:
        child.join(30)
    return found


def completions_per_second(url: str, processes: int, duration: float, cases_each: int) -> tuple[float, float, str]:
    """Task completions per second with ``processes`` OS processes on a fresh database; CPU ms per completion.

    The CPU time is the completing processes' own (not the database server's): if it stays the same
    per completion with more processes, they do not get in each other's way; a shortfall in
    throughput is then the machine's cores, not the product.
    """
    with loop_services(url) as services:
        school = school_id(services)
        owned = []
        for p in range(processes):
            cases = []
            for n in range(cases_each):
                case = LoopCase(services, f"B9-{processes}-{p}-{n}")
                case.step()
                cases.append(case.instance_id)
            owned.append(cases)
        settings = services.settings
        env = dict(os.environ, DATABASE_URL=_named(settings.database_url),
                   HOMESCHOOL_INSTANCE_DIR=str(settings.instance_dir),
                   HOMESCHOOL_PROCESSES_DIR=str(settings.processes_dir), HOMESCHOOL_FORMS_DIR=str(settings.forms_dir),
                   HOMESCHOOL_CALENDAR_OVERRIDES=str(settings.calendar_overrides))
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(processes)
        results = context.Queue()
        children = [context.Process(target=_completer, args=(env, owned[p], school, start, duration, results))
                    for p in range(processes)]
        with LockWatch(settings.database_url) as watch:
            for child in children:
                child.start()
            found = _gather(children, start, results, 180 + duration)
        progress(f"{processes} process(es): {watch.summary()}")
    failed = [detail for count, detail, _cpu in found if count < 0]
    if failed:
        raise RuntimeError(f"a completing process failed: {failed[0]}")
    total = sum(count for count, _, _cpu in found)
    rate = total / max(seconds for _, seconds, _cpu in found)
    return rate, sum(cpu for _, _, cpu in found) / total * 1000, watch.summary()


def _pending(engine_url_services: Any) -> int:
    with engine_url_services.uow(write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(PendingTimerRow)).scalar_one())


def timers_per_second(url: str, workers: int, timers: int) -> tuple[float, float, str]:
    """Timers fired per second by ``workers`` worker processes, all released at once; their CPU ms per timer."""
    with product_services(url) as services, scratch("homeschool-bench-workers-") as folder:
        start_portal_cases(services, f"B9W{workers}", timers, at("2026-03-20T17:00+05:00"))
        with services.uow() as uow:
            uow.session.execute(update(PendingTimerRow).values(fire_at=HELD_BACK))
            uow.commit()
        while deliver_outbox(services.write_uow, services.transports, now=services.now(), batch=200).delivered:
            pass  # what starting the cases queued is not the workers' timer work
        if services.now() <= at("2026-03-25T18:30+05:00"):
            raise RuntimeError("the real clock is before the portal deadlines: the timers would not be due")
        env = product_env(_named(services.settings.database_url), folder)
        logs = [Path(folder) / f"worker-{n}.log" for n in range(workers)]
        running: list[subprocess.Popen[bytes]] = []
        try:
            for log in logs:  # one after another: workers starting together race to deploy the shipped files
                with log.open("wb") as output:
                    worker = subprocess.Popen([str(BIN / "homeschool"), "worker"], cwd=PROJECT, env=env,
                                              stdout=output, stderr=subprocess.STDOUT)
                running.append(worker)
                deadline = time.monotonic() + 90
                while "worker started" not in log.read_text(errors="replace"):
                    if worker.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"a worker did not start: {tail(log, 40)}")
                    time.sleep(0.05)
            cpu_before = sum(cpu_seconds(p.pid) for p in running)
            with LockWatch(services.settings.database_url) as watch:
                with services.uow() as uow:
                    uow.session.execute(update(PendingTimerRow).values(fire_at=PendingTimerRow.due_at))
                    uow.commit()
                first_seen: tuple[float, int] | None = None
                left = timers
                limit = time.monotonic() + 60 + timers
                while left > 0 and time.monotonic() < limit:
                    time.sleep(0.02)
                    left = _pending(services)
                    if first_seen is None and left < timers:
                        first_seen = (time.perf_counter(), left)
                finished = time.perf_counter()
            cpu_used = sum(cpu_seconds(p.pid) for p in running) - cpu_before
            progress(f"{workers} worker(s): {watch.summary()}")
        finally:
            codes = [stop_process(p, 60) for p in running]  # a pass ends its case, then its outbox batch
        if left > 0 or first_seen is None:
            raise RuntimeError(f"{left} of {timers} timers still pending: {tail(logs[0])}")
        if any(codes):
            raise RuntimeError(f"a worker exited with {codes}: {tail(logs[0])}")
    seen_at, pending_then = first_seen
    return pending_then / (finished - seen_at), cpu_used / timers * 1000, watch.summary()


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 9 on the PostgreSQL server given (SQLite has one writer at a time: not measured)."""
    servers = [url for url in databases if dialect_of(url) == "postgresql"]
    if not servers:
        return [Result("9", "Throughput with several processes", "not run: no PostgreSQL server given",
                       f"2 processes ≥ {TARGET}× one", None)]
    url, duration = servers[0], DURATION[quick]
    rates: dict[int, float] = {}
    cpu: dict[int, float] = {}
    locks: dict[str, str] = {}
    for processes in PROCESSES:
        rates[processes], cpu[processes], locks[f"{processes}p"] = completions_per_second(
            url, processes, duration, CASES_PER_PROCESS[quick])
        progress(f"{processes} process(es): {rates[processes]:.1f} task completions/s, "
                 f"{cpu[processes]:.1f} ms CPU each")
    fired: dict[int, float] = {}
    worker_cpu: dict[int, float] = {}
    for workers in WORKERS:
        fired[workers], worker_cpu[workers], locks[f"{workers}w"] = timers_per_second(url, workers, TIMERS[quick])
        progress(f"{workers} worker(s): {fired[workers]:.1f} timers/s, {worker_cpu[workers]:.1f} ms CPU each")
    two, timers_two = rates[2] / rates[1], fired[2] / fired[1]
    return [
        Result("9", f"Task completions per second, 1 / 2 / 4 OS processes (postgresql, {duration:.0f} s each, "
                    f"{os.cpu_count()} cores)",
               f"{rates[1]:.1f} / {rates[2]:.1f} / {rates[4]:.1f} per s → 2 processes {two:.2f}×, "
               f"4 processes {rates[4] / rates[1]:.2f}× one; the processes' own CPU per completion "
               f"{cpu[1]:.1f} / {cpu[2]:.1f} / {cpu[4]:.1f} ms; with 2 processes {locks['2p']}",
               f"2 processes ≥ {TARGET}× one", two >= TARGET),
        Result("9", f"Timers fired per second, 1 / 2 `homeschool worker` processes (postgresql, "
                    f"{TIMERS[quick]} timers each)",
               f"{fired[1]:.1f} / {fired[2]:.1f} per s → 2 workers {timers_two:.2f}×; the workers' own CPU per "
               f"timer {worker_cpu[1]:.1f} / {worker_cpu[2]:.1f} ms; with 2 workers {locks['2w']}",
               f"2 workers ≥ {TARGET}× one", timers_two >= TARGET),
    ]
