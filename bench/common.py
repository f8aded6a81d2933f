"""Shared pieces of the benchmarks: a product wired on a fresh database, results, the report."""

from __future__ import annotations

import contextlib
import csv
import math
import os
import platform
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import Table, create_engine, func, insert, select, text

from service.application.cases import CaseOwners
from service.application.organisations import import_registry
from service.bootstrap import Services, build_services
from service.config import Settings
from service.domain.organisations import with_check_digit
from service.domain.staff import Actor, Membership
from service.domain.time import ALMATY
from service.persistence import migrate
from service.persistence.database import Database
from service.persistence.models import (
    DiagramVersion,
    OpenTaskRow,
    OrganisationRow,
    PendingTimerRow,
    ProcessInstance,
)

PROJECT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    """One figure of the table."""

    number: str
    what: str
    measured: str
    target: str
    met: bool | None


def at(text_: str) -> datetime:
    """An instant from ISO text."""
    return datetime.fromisoformat(text_).astimezone(ALMATY)


def progress(message: str) -> None:
    """Progress for long seeding, on stderr-like output that stays readable in CI logs."""
    print(f"  … {message}", flush=True)


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[str]:
    """A temporary folder, removed with everything in it afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as folder:
        yield folder


@contextlib.contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """A migrated empty database: a temporary SQLite file, or a new schema on the PostgreSQL server."""
    if not url or url.startswith("sqlite"):
        with scratch("homeschool-bench-") as folder:
            sqlite_url = f"sqlite:///{folder}/bench.sqlite3"
            migrate.upgrade(Database(sqlite_url))
            yield sqlite_url
        return
    with migrate.scratch_schema(url, "bench") as scoped:
        yield scoped


@contextlib.contextmanager
def product_services(url: str | None, demo_registry: bool = True) -> Iterator[Services]:
    """The product as shipped (processes/, forms/) on a fresh database holding the demo registry (if told)."""
    with fresh_database(url) as database_url, scratch("homeschool-bench-instance-") as folder:
        settings = Settings.from_env({
            "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": folder,
            "HOMESCHOOL_CALENDAR_OVERRIDES": f"{folder}/none.toml",
        }, base=PROJECT)
        services = build_services(settings)
        try:
            if demo_registry:
                registry(services)
            yield services
        finally:
            services.database.dispose()


# --- organisations and the people who act ------------------------------------------------------

#: The demo registry (three schools, a district education department, an akimat, the quality body).
REGISTRY = PROJECT / "config" / "demo-organisations.csv"
#: School № 25 of the demo registry: the benchmarks' cases belong to it and its staff act on them.
SCHOOL = "050140003125"
#: The service itself (messages from outside systems, bulk set-up).
SYSTEM = Actor.system("bench")


def registry(services: Services) -> dict[str, int]:
    """Import the demo registry into the bench database (once per services); organisation ids by BIN."""
    known: dict[str, int] | None = getattr(services, "bench_registry", None)
    if known is not None:
        return known
    with services.uow() as uow:
        if uow.organisations.count() == 0:
            import_registry(uow, actor=SYSTEM, content=REGISTRY.read_bytes(), now=services.now())
    with REGISTRY.open(encoding="utf-8", newline="") as rows:
        bins = [row["bin"] for row in csv.DictReader(rows)]
    with services.uow(write=False) as uow:
        ids = {bin_: org.id for bin_, org in uow.organisations.by_bins(bins).items()}
    services.bench_registry = ids  # type: ignore[attr-defined]
    return ids


def school_id(services: Services) -> int:
    """The id of the school the benchmarks' cases belong to."""
    return registry(services)[SCHOOL]


def owners(services: Services) -> CaseOwners:
    """The owners of a benchmark case: the school (call outside an open unit of work: SQLite would wait)."""
    return CaseOwners(school_id(services))


def person(organisation_id: int, *roles: str, login: str | None = None) -> Actor:
    """A member of staff holding ``roles`` in one organisation (not stored: use cases take the actor as given)."""
    name = login or "bench-" + "+".join(roles)
    return Actor(login=name, full_name=f"Bench {name}", memberships=(Membership(organisation_id, frozenset(roles)),))


def seed_schools(url: str, count: int, now: datetime) -> list[int]:
    """Bulk-insert ``count`` schools with valid BINs (a country's worth: ~7,500); their ids, in order."""
    engine = create_engine(url)
    organisations: Table = OrganisationRow.__table__  # type: ignore[assignment]
    bins: list[str] = []
    serial = 0
    while len(bins) < count:
        serial += 1
        found = with_check_digit(f"99{serial:09d}")
        if found is not None:
            bins.append(found)
    try:
        for start in range(0, count, SEED_BATCH):
            with engine.begin() as connection:
                connection.execute(insert(organisations), [
                    {"bin": bin_, "kind": "school", "name_kk": f"№ {n} мектеп", "name_ru": f"Школа № {n}",
                     "address_kk": f"Мекенжай {n}", "address_ru": f"Адрес {n}", "phone": "+7 700 000 00 00",
                     "email": "", "region": f"Region {n % 20}", "district": f"District {n % 200}",
                     "working_hours": "09:00-18:30", "head_name": f"Head {n}", "head_position_kk": "Директор",
                     "head_position_ru": "Директор", "locality_kk": "", "locality_ru": "", "active": True,
                     "updated_at": now}
                    for n, bin_ in enumerate(bins[start:start + SEED_BATCH], start=start + 1)
                ])
        with engine.begin() as connection:
            found_ids = dict(connection.execute(select(organisations.c.bin, organisations.c.id)
                                                .where(organisations.c.bin.like("99%"))).all())
    finally:
        engine.dispose()
    return [found_ids[bin_] for bin_ in bins]


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = "unknown"
    return {
        "date": datetime.now(ALMATY).strftime("%Y-%m-%d %H:%M %z"),
        "commit": commit or "unknown",
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
    }


# --- shared by benchmarks 2–6 -----------------------------------------------------------------

#: The lanes bulk-seeded open tasks are spread over (round robin), with a task id of each.
LANES: tuple[tuple[str, str], ...] = (
    ("office_clerk", "check_portal_request"),
    ("head", "determine_class_and_language"),
    ("specialist", "organise_home_schooling"),
    ("reviewing_official", "review_complaint"),
)
#: The stand-in diagram version that bulk-seeded cases point at (only the foreign key needs it).
PLACEHOLDER_HASH = "bench-placeholder-" + "0" * 46
SEED_BATCH = 5000


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """Seconds as milliseconds for the table."""
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def seed_placeholder_cases(
    url: str, count: int, *, created_from: datetime, tasks: bool = True, timers_from: datetime | None = None,
    label: str = "cases", organisation_of: Callable[[int], int | None] = lambda n: None,
) -> None:
    """Bulk-insert ``count`` stand-in cases straight into the tables (no engine, no serialization).

    Each is a ``process_instances`` row with a tiny placeholder state, plus (``tasks``) one open task
    in one of :data:`LANES`, plus (``timers_from``) one pending timer, one second after the previous.
    Created instants go up one second per case from ``created_from``. The ``n``-th case (from 0)
    and its task belong to the organisation ``organisation_of(n)``; its lane is ``LANES[n % 4]``.
    """
    engine = create_engine(url)
    instances: Table = ProcessInstance.__table__  # type: ignore[assignment]
    open_tasks: Table = OpenTaskRow.__table__  # type: ignore[assignment]
    timers: Table = PendingTimerRow.__table__  # type: ignore[assignment]
    versions: Table = DiagramVersion.__table__  # type: ignore[assignment]
    started = time.perf_counter()
    try:
        with engine.begin() as connection:
            if connection.execute(select(versions.c.content_hash)
                                  .where(versions.c.content_hash == PLACEHOLDER_HASH)).first() is None:
                connection.execute(insert(versions).values(
                    content_hash=PLACEHOLDER_HASH, process_id="service_delivery", file="bench placeholder",
                    source=b"", stored_at=created_from))
            first = int(connection.execute(select(func.coalesce(func.max(instances.c.id), 0))).scalar_one()) + 1
        done = 0
        while done < count:
            size = min(SEED_BATCH, count - done)
            ids = range(first + done, first + done + size)
            with engine.begin() as connection:
                owner = {i: organisation_of(i - first) for i in ids}
                connection.execute(insert(instances), [
                    {"id": i, "process_id": "service_delivery", "business_key": f"BENCH-{i}",
                     "diagram_hash": PLACEHOLDER_HASH, "status": "running", "state": "{}",
                     "serializer_version": "bench", "version": 1, "organisation_id": owner[i],
                     "created_at": created_from + timedelta(seconds=i - first),
                     "updated_at": created_from + timedelta(seconds=i - first)}
                    for i in ids
                ])
                if tasks:
                    connection.execute(insert(open_tasks), [
                        {"task_id": str(uuid.uuid4()), "instance_id": i, "process_id": "service_delivery",
                         "business_key": f"BENCH-{i}", "element_id": LANES[(i - first) % len(LANES)][1],
                         "title": f"Bench task {i}", "lane": LANES[(i - first) % len(LANES)][0],
                         "organisation_id": owner[i],
                         "due_at": created_from + timedelta(days=3, seconds=i - first) if i % 2 else None,
                         "assignee": None, "created_at": created_from + timedelta(seconds=i - first)}
                        for i in ids
                    ])
                if timers_from is not None:
                    connection.execute(insert(timers), [
                        {"instance_id": i, "element_id": "portal_deadline_passed",
                         "due_at": timers_from + timedelta(seconds=i - first),
                         "fire_at": timers_from + timedelta(seconds=i - first), "attempts": 0, "last_error": None}
                        for i in ids
                    ])
            done += size
            if done == count or done % 20000 == 0:
                progress(f"seeded {done:,}/{count:,} {label} ({time.perf_counter() - started:.1f} s)")
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
                connection.execute(text("SELECT setval(pg_get_serial_sequence('process_instances', 'id'), "
                                        "(SELECT max(id) FROM process_instances))"))
    finally:
        engine.dispose()


def settle(url: str) -> None:
    """What the database would do by itself after a bulk load: PostgreSQL's autovacuum (VACUUM ANALYZE).

    SQLite is left as the product leaves it (the product never runs ANALYZE there).
    """
    if url.startswith("sqlite"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for table in ("organisations", "process_instances", "open_tasks", "pending_timers", "event_log"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        engine.dispose()


def dialect_of(url: str) -> str:
    """'sqlite' or 'postgresql' for a URL."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"


# --- subprocesses: the product's own commands, on loopback ------------------------------------

def product_env(database_url: str, folder: str, **extra: str) -> dict[str, str]:
    """Environment for ``homeschool worker`` / gunicorn on the bench database (instance files in ``folder``)."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": folder,
        "HOMESCHOOL_CALENDAR_OVERRIDES": f"{folder}/none.toml", "HOMESCHOOL_DEMO_USERS": "false",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


BIN = PROJECT / ".venv" / "bin"


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str], log: Path, ready: Callable[[], bool],
            start_timeout: float = 60.0, stop_timeout: float = 15.0) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess, yielded once ``ready()`` holds; stopped with SIGTERM (then SIGKILL) afterwards.

    Everything it prints goes to ``log``; the waits are bounded both ways.
    """
    with log.open("wb") as output:
        process = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + start_timeout
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with {process.returncode}: {tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} not ready after {start_timeout:.0f} s: {tail(log)}")
            time.sleep(0.05)
        yield process
    finally:
        stop(process, stop_timeout)


def stop(process: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM, wait at most ``timeout`` seconds, then SIGKILL; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return int(process.returncode)


def tail(log: Path, lines: int = 15) -> str:
    """The last lines a subprocess printed."""
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (e.g. gunicorn's workers)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid: int) -> int:
    """Peak resident set size of a process so far (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def http_ok(url: str) -> bool:
    """Whether a GET of ``url`` answers 200 (used to wait for a server)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="([^"]+)"')


def web_sign_in(session: requests.Session, base: str, login: str, password: str) -> None:
    """Sign in to the staff web app like a browser (CSRF token from the form)."""
    page = session.get(f"{base}/login", timeout=30)
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on the sign-in page ({page.status_code})")
    answer = session.post(f"{base}/login", data={"login": login, "password": password, "csrf_token": found.group(1)},
                          allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in as {login} failed: {answer.status_code}")


def create_staff_user(services: Services, login: str, password: str, roles: list[str]) -> None:
    """A staff account of the benchmarks' school, straight through the application service."""
    from service.application.people import create_staff
    from service.application.process_access import known_roles

    organisation = school_id(services)
    with services.uow() as uow:
        create_staff(uow, actor=SYSTEM, organisation_id=organisation, login=login, full_name=f"Bench {login}",
                     password=password, roles=roles, known_roles=known_roles(services.engine.library.diagrams()),
                     now=services.now())
