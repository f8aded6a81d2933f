"""Benchmark 2, search: the inbox and the case list searched by IIN and by name at 1,000/10,000/100,000 cases.

Seeded as benchmark 2 seeds the task list (7,500 schools, placeholder cases with one open task each,
a tenth of them at one large school), plus one ``case_index`` row per case as the step writing a
case leaves it: a child and an applicant with distinct IINs and names (a surname from a list of
fifty common ones with a distinct ending, so a surname's beginning is shared by a fiftieth of the
country and a whole surname names one child). One call is what the inbox page asks for when a head
of the large school types in the search box: ``list_tasks(..., search=<a child's IIN | surname>)``
(page + capped count), and what the case list asks for: ``list_cases(..., search=<IIN>)``; each
is checked to find exactly the searched child's case. Target: p95 ≤ 20 ms at every size.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from sqlalchemy import Table, create_engine, insert, select, text

from service.application.queries import list_tasks
from service.application.worklist import list_cases
from service.bootstrap import Services
from service.domain.search import fold
from service.domain.staff import Actor
from service.persistence.models import OpenTaskRow, ProcessInstance
from service.persistence.search_models import CaseIndexRow

from .b2_task_list import ROLE, SCHOOLS, head_of, seed
from .common import SEED_BATCH, Result, dialect_of, ms, percentile, product_services, progress

SURNAMES = ("Ахметов", "Иванов", "Сәрсенов", "Ким", "Омаров", "Жұмабаев", "Петров", "Нұрланов", "Әлиев", "Смағұлов")
ENDINGS = "абвгдежзиклмнопрстуфхцчшэюя"


def surname(n: int) -> str:
    """A distinct surname for case ``n``: a common one with an ending no other case has."""
    ending, rest = "", n // len(SURNAMES)
    while True:
        ending += ENDINGS[rest % len(ENDINGS)]
        rest //= len(ENDINGS)
        if rest == 0:
            break
    return f"{SURNAMES[n % len(SURNAMES)]}{ending}"


def iin(n: int, person: int) -> str:
    """A twelve-digit IIN-shaped number for the child (0) or the applicant (1) of case ``n``."""
    return f"{person}{n:011d}"


def index_cases(url: str) -> None:
    """One ``case_index`` row per seeded case: its child and applicant, as a step would have copied them."""
    engine = create_engine(url)
    instances: Table = ProcessInstance.__table__  # type: ignore[assignment]
    index: Table = CaseIndexRow.__table__  # type: ignore[assignment]
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(instances.c.id, instances.c.business_key, instances.c.organisation_id,
                                             instances.c.created_at).order_by(instances.c.id)).all()
        for start in range(0, len(rows), SEED_BATCH):
            with engine.begin() as connection:
                connection.execute(insert(index), [
                    {"instance_id": row.id, "process_id": "service_delivery", "business_key": row.business_key,
                     "number_key": row.business_key.upper(), "organisation_id": row.organisation_id,
                     "appealed_organisation_id": None, "status": "running", "stage": "class_and_language",
                     "child_name": f"{surname(row.id)} Нұрлан", "child_key": fold(f"{surname(row.id)} Нұрлан"),
                     "child_iin": iin(row.id, 0), "applicant_name": f"{surname(row.id)}а Айгүл",
                     "applicant_key": fold(f"{surname(row.id)}а Айгүл"), "applicant_iin": iin(row.id, 1),
                     "opened_at": row.created_at}
                    for row in rows[start:start + SEED_BATCH]
                ])
        progress(f"indexed {len(rows):,} cases ({time.perf_counter() - started:.1f} s)")
    finally:
        engine.dispose()


def target_case(url: str, school: int) -> int:
    """A case of the measured school whose open task is the head's: what the search looks for."""
    engine = create_engine(url)
    tasks: Table = OpenTaskRow.__table__  # type: ignore[assignment]
    try:
        with engine.connect() as connection:
            found = connection.execute(
                select(tasks.c.instance_id).where(tasks.c.organisation_id == school, tasks.c.lane == ROLE)
                .order_by(tasks.c.instance_id.desc()).limit(1)).scalar_one()
    finally:
        engine.dispose()
    return int(found)


def calls(services: Services, head: Actor, case: int) -> dict[str, Callable[[], float]]:
    """The three searches, each timed in its own read-only unit of work and checked to find ``case``."""
    runtime = services.runtime

    def inbox(search: str) -> Callable[[], float]:
        def call() -> float:
            started = time.perf_counter()
            with services.uow(write=False) as uow:
                page = list_tasks(uow, runtime, actor=head, search=search, page=1, per_page=25)
            elapsed = time.perf_counter() - started
            assert [task.instance_id for task in page.items] == [case], page
            return elapsed
        return call

    def case_list() -> float:
        started = time.perf_counter()
        with services.uow(write=False) as uow:
            page = list_cases(uow, runtime, actor=head, search=iin(case, 0), page=1, per_page=25)
        elapsed = time.perf_counter() - started
        assert [row.instance_id for row in page.rows] == [case], page
        return elapsed

    return {"inbox by IIN": inbox(iin(case, 0)), "inbox by surname": inbox(surname(case)),
            "case list by IIN": case_list}


def measure(url: str, sizes: list[int], repetitions: int) -> list[Result]:
    """Seed one database per size, then time each search round the sizes."""
    label = dialect_of(url)
    timings: dict[str, dict[int, list[float]]] = {}
    with contextlib.ExitStack() as stack:
        prepared: dict[int, dict[str, Callable[[], float]]] = {}
        for size in sizes:
            services = stack.enter_context(product_services(url, demo_registry=False))
            progress(f"{label}: seeding {SCHOOLS:,} schools and {size:,} open cases with their case index")
            school = seed(services.settings.database_url, size, services.now())
            index_cases(services.settings.database_url)
            if not url.startswith("sqlite"):
                _analyze(services.settings.database_url)
            prepared[size] = calls(services, head_of(school), target_case(services.settings.database_url, school))
            for call in prepared[size].values():
                for _ in range(10):
                    call()
        for _ in range(repetitions):
            for size, named in prepared.items():
                for name, call in named.items():
                    timings.setdefault(name, {}).setdefault(size, []).append(call())
    results = []
    for name, by_size in timings.items():
        figures = "; ".join(f"{size:,}: p50 {ms(percentile(v, 50))}, p95 {ms(percentile(v, 95))}"
                            for size, v in by_size.items())
        worst = max(percentile(v, 95) for v in by_size.values())
        results.append(Result("2", f"Search, {name}, head of a large school ({label}, {repetitions} calls per size)",
                              figures, "p95 ≤ 20 ms at every size", worst <= 0.020))
    return results


def _analyze(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE case_index"))
    finally:
        engine.dispose()


def run(quick: bool, databases: list[str]) -> list[Result]:
    """The search part of benchmark 2 on each database given."""
    sizes = [1000, 3000] if quick else [1000, 10000, 100000]
    repetitions = 50 if quick else 200
    results: list[Result] = []
    for url in databases:
        results += measure(url, sizes, repetitions)
    return results
