"""Benchmark 8: a step's cost and the stored state as one task is reopened 200 times.

The case is ``bench/loop_case.py``'s: one user task (with its form) and an exclusive gateway that
sends it back to the task until the submitted ``stop`` is true. Each reopening is one
``complete_task`` through the application services in its own unit of work, as the web app does
(lock, form check, engine, state with the version check, open-task projection, event log,
commit); the next task's id is read outside the clock. After each step the stored state is read
back and its size in bytes (UTF-8) recorded. A case is taken to its 190th reopening; then its
reopenings 191–200 alternate step by step with reopenings 1–10 of a new case, so both are timed
under the same load (repeated for several cases). Reported: the median step time and the largest
state of reopenings 1–10 against 191–200 (quick mode: 1–10 against 31–40), and their ratios. Target:
both ratios ≤ 1.5. For comparison the same case is run once more with the product saving every
task SpiffWorkflow ran (no pruning), which is how it saved cases before this benchmark.
"""

from __future__ import annotations

import contextlib
import statistics
import time

from sqlalchemy import select

from service.application.cases import CaseOwners, complete_task, start_case
from service.bootstrap import Services
from service.engine.serialization import WorkflowSerializer
from service.persistence.models import ProcessInstance

from . import loop_case
from .common import Result, at, person, school_id
from .generated import services_on

NOW = at("2026-03-20T11:00+05:00")
TARGET = 1.5
WINDOW = 10
#: (reopenings per case, cases): full and quick.
FULL = (200, 3)
QUICK = (40, 1)
HOW = (__doc__ or "").strip()


def loop_services(url: str | None) -> contextlib.AbstractContextManager[Services]:
    """The product wired on the loop diagram and its form, on a fresh database."""
    return services_on(url, loop_case.write, "homeschool-bench-loop-")


class LoopCase:
    """One case of the loop diagram, its task completed one reopening at a time."""

    def __init__(self, services: Services, label: str) -> None:
        self.services = services
        school = school_id(services)
        self.actor = person(school, loop_case.LANE, login="specialist")
        with services.uow() as uow:
            ref = start_case(uow, services.runtime, actor=self.actor, process_id=loop_case.PROCESS_ID,
                             business_key=label, data={}, owners=CaseOwners(school), now=NOW)
        self.instance_id = ref.instance_id
        self.reopened = 0

    def step(self, last: bool = False) -> tuple[float, int]:
        """Complete the open task once (stopping the loop if ``last``): seconds taken, bytes stored after."""
        services = self.services
        with services.uow(write=False) as uow:
            [task] = uow.tasks.for_instance(self.instance_id)
        self.reopened += 1
        data = loop_case.answers(self.reopened, stop=last)
        began = time.perf_counter()
        with services.uow() as uow:
            complete_task(uow, services.runtime, actor=self.actor, task_id=task.task_id, data=data, now=NOW)
        spent = time.perf_counter() - began
        with services.database.write_engine.connect() as connection:
            state = connection.execute(select(ProcessInstance.state)
                                       .where(ProcessInstance.id == self.instance_id)).scalar_one()
        return spent, len(state.encode("utf-8"))


def measure(services: Services, reopenings: int, cases: int) -> tuple[float, float, int, int]:
    """Median step time (ms) of reopenings 1–10 and of the last ten, largest state (bytes) of each.

    An old case is taken to ten reopenings short of the end; then its last ten steps alternate with
    the first ten of a new case, so that both windows are timed under the same load.
    """
    first: list[float] = []
    last: list[float] = []
    first_sizes: list[int] = []
    last_sizes: list[int] = []
    for n in range(cases):
        label = f"B8-{services.database.dialect}-{n}-{time.monotonic_ns()}"
        old = LoopCase(services, label + "-old")
        for _ in range(reopenings - WINDOW):
            old.step()
        new = LoopCase(services, label + "-new")
        for j in range(WINDOW):
            spent, size = new.step()
            first.append(spent)
            first_sizes.append(size)
            spent, size = old.step(last=j == WINDOW - 1)
            last.append(spent)
            last_sizes.append(size)
    return (statistics.median(first) * 1000, statistics.median(last) * 1000, max(first_sizes), max(last_sizes))


def run(quick: bool, databases: list[str]) -> list[Result]:
    """Benchmark 8 on each database given."""
    reopenings, cases = QUICK if quick else FULL
    results = []
    for url in databases:
        with loop_services(url) as services:
            label = services.database.dialect
            warm = LoopCase(services, f"B8-warm-{label}")  # warm-up: parsing, caches, connections
            for _ in range(5):
                warm.step()
            t1, t2, s1, s2 = measure(services, reopenings, cases)
            services.engine.serializer = WorkflowSerializer(prune=False)
            u1, u2, v1, v2 = measure(services, reopenings, 1)
        last = f"{reopenings - WINDOW + 1}–{reopenings}"
        time_ratio, size_ratio = t2 / t1, s2 / s1
        results.append(Result(
            "8", f"Cost per step as a task is reopened ({label}, reopenings 1–{WINDOW} vs {last}, {cases} cases)",
            f"{t1:.2f} → {t2:.2f} ms per step ({time_ratio:.2f}×); state {s1 / 1024:.1f} → {s2 / 1024:.1f} KB "
            f"({size_ratio:.2f}×); without pruning {u1:.2f} → {u2:.2f} ms, {v1 / 1024:.1f} → {v2 / 1024:.1f} KB",
            f"≤ {TARGET}× both", time_ratio <= TARGET and size_ratio <= TARGET,
        ))
    return results
