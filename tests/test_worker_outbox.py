"""The worker's side of the product: delivering the outbox (spool, HTTP, held channels) with retries
and backoff, firing due timers from ``homeschool worker --once``, and several workers racing."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, update

from service.adapters.transports import HttpTransport, SpoolTransport, build_transports
from service.application.cases import complete_task, start_case
from service.application.outbox import CLAIM_LEASE, MAX_RETRY_DELAY, DeliveryFailed, deliver_outbox, retry_delay
from service.application.queries import case_view, list_tasks
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.cli import main
from service.config import Settings
from service.domain.model import EventRecord, OutboxItem
from service.persistence.models import EventLogEntry, OutboxMessage

from .support import DIAGRAMS, PROJECT, SYSTEM, at, owners, person

RECEIVED = at("2026-03-20T17:00+05:00")  # Friday before Nauryz
DEADLINE = at("2026-03-27T18:30+05:00")  # 2 working days: 26 and 27 March
REFUSAL = {"package_complete": False, "missing_documents": ["VKK conclusion"]}


# --- helpers --------------------------------------------------------------------------------


def _start(services: Services, key: str) -> int:
    with services.uow() as uow:
        ref = start_case(uow, services.runtime, process_id="intake_demo", business_key=key,
                         data={"received_at": RECEIVED.isoformat()}, actor=SYSTEM, owners=owners(services),
                         now=RECEIVED)
    return ref.instance_id


def _complete_clerk_task(services: Services, case: int, data: dict[str, Any]) -> None:
    with services.uow(write=False) as uow:
        (task,) = [t for t in uow.tasks.for_instance(case) if t.element_id == "register_application"]
    clerk = person(services, "office_clerk", login="clerk")
    with services.uow() as uow:
        complete_task(uow, services.runtime, task_id=task.task_id, data=data, actor=clerk, now=RECEIVED)


def _refused_case(services: Services, key: str = "OUT-1") -> tuple[int, OutboxItem]:
    """A case sent down the refusal path; returns it and its one queued portal message.

    The case's §8 monitoring entries are set aside (marked delivered) so each test watches one message.
    """
    case = _start(services, key)
    _complete_clerk_task(services, case, REFUSAL)
    with services.uow() as uow:
        monitoring = [m for m in uow.outbox.listing(instance_id=case) if m.channel == "monitoring"]
        assert [m.payload["stage"] for m in reversed(monitoring)] == ["check_request", "refused"]
        for entry in monitoring:
            uow.outbox.mark_delivered(entry.id, "test:set-aside", RECEIVED)
        uow.commit()
    (item,) = _outbox(services, case)
    assert (item.channel, item.message_name, item.payload) == (
        "portal_cabinet", "portal_cabinet.refusal", {"reasons": ["VKK conclusion"]}
    )
    assert item.delivered_at is None and item.attempts == 0
    return case, item


def _outbox(services: Services, case: int) -> list[OutboxItem]:
    with services.uow(write=False) as uow:
        return [m for m in uow.outbox.listing(instance_id=case) if m.channel != "monitoring"]


def _next_attempt_at(services: Services, outbox_id: int) -> datetime:
    with services.uow(write=False) as uow:
        return uow.session.execute(
            select(OutboxMessage.next_attempt_at).where(OutboxMessage.id == outbox_id)
        ).scalar_one()


def _count_events(services: Services, action: str) -> int:
    with services.uow(write=False) as uow:
        return int(uow.session.execute(
            select(func.count()).select_from(EventLogEntry).where(EventLogEntry.action == action)
        ).scalar_one())


def _cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The command's environment, pointing at the same database and folders as ``settings``."""
    return {
        "DATABASE_URL": settings.database_url,
        "HOMESCHOOL_INSTANCE_DIR": str(settings.instance_dir),
        "HOMESCHOOL_PROCESSES_DIR": str(DIAGRAMS),
        "HOMESCHOOL_FORMS_DIR": str(settings.forms_dir),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(settings.calendar_overrides),
        **extra,
    }


@pytest.fixture
def cli() -> Iterator[Any]:
    """Run ``homeschool ARGS`` in-process; the worker's SIGTERM/SIGINT handlers are undone afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def invoke(env: dict[str, str], *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    try:
        yield invoke
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


# --- backoff --------------------------------------------------------------------------------


def test_retry_delay_doubles_from_30_seconds_up_to_one_hour() -> None:
    delays = [retry_delay(attempts) for attempts in range(9)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 960, 1920, 3600, 3600)]
    assert retry_delay(0, first=timedelta(seconds=5)) == timedelta(seconds=5)


def test_retry_delay_stays_one_hour_after_a_long_outage() -> None:
    # A day and a half of hourly retries is 42 attempts; the delay must not overflow timedelta.
    assert [retry_delay(n) for n in (41, 42, 100, 10_000)] == [MAX_RETRY_DELAY] * 4


class _Refusing:
    """A transport whose outside system is down."""

    def send(self, item: OutboxItem) -> str:
        raise DeliveryFailed("portal answered 503")


def test_a_message_failing_for_days_is_still_retried_hourly(services: Services, tmp_path: Path) -> None:
    first_case, stuck = _refused_case(services, "OUT-STUCK")
    second_case, fresh = _refused_case(services, "OUT-FRESH")
    with services.uow() as uow:  # as after ~36 hours of a portal outage
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == stuck.id).values(attempts=42))
        uow.commit()

    result = deliver_outbox(services.write_uow, {"portal_cabinet": _Refusing()}, now=RECEIVED)
    assert sorted(result.failed) == sorted([stuck.id, fresh.id])
    assert _next_attempt_at(services, stuck.id) == RECEIVED + MAX_RETRY_DELAY
    assert _outbox(services, first_case)[0].attempts == 43

    # The portal is back: the long-failing message goes out with the others in the same pass.
    back = deliver_outbox(services.write_uow, {"portal_cabinet": SpoolTransport(tmp_path / "back")},
                          now=RECEIVED + MAX_RETRY_DELAY)
    assert sorted(back.delivered) == sorted([stuck.id, fresh.id])
    assert _outbox(services, second_case)[0].delivered_at is not None


# --- spool ----------------------------------------------------------------------------------


def test_spool_transport_writes_the_message_once_and_marks_it_delivered(
    services: Services, tmp_path: Path
) -> None:
    case, item = _refused_case(services)
    spool = tmp_path / "spool"
    transports = {"portal_cabinet": SpoolTransport(spool)}
    now = RECEIVED + timedelta(minutes=1)

    result = deliver_outbox(services.write_uow, transports, now=now)
    assert (result.delivered, result.failed, result.held) == ([item.id], {}, [])

    expected = spool / (item.idempotency_key.replace("/", "_") + ".json")
    assert sorted(p.name for p in spool.iterdir()) == [expected.name]  # no .part file left behind
    document = json.loads(expected.read_text(encoding="utf-8"))
    assert document["payload"] == {"reasons": ["VKK conclusion"]}
    assert document["idempotency_key"] == item.idempotency_key
    assert (document["channel"], document["message"], document["business_key"]) == (
        "portal_cabinet", "portal_cabinet.refusal", "OUT-1"
    )

    (row,) = _outbox(services, case)
    assert row.delivered_at == now
    assert row.delivered_to == f"spool:{expected}"
    assert (row.attempts, row.last_error) == (1, None)
    assert _count_events(services, "outbox_delivered") == 1

    written = expected.stat().st_mtime_ns
    again = deliver_outbox(services.write_uow, transports, now=now + timedelta(hours=2))
    assert (again.delivered, again.failed, again.held) == ([], {}, [])
    assert expected.stat().st_mtime_ns == written
    assert _outbox(services, case)[0].attempts == 1
    assert _count_events(services, "outbox_delivered") == 1


def test_outbox_deliver_command_spools_to_the_configured_folder(
    services: Services, settings: Settings, tmp_path: Path, cli: Any
) -> None:
    case, item = _refused_case(services)
    spool = tmp_path / "portal-spool"
    env = _cli_env(settings, HOMESCHOOL_OUTBOX_PORTAL_CABINET=f"spool:{spool}")

    first = cli(env, "outbox", "deliver")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == "delivered 1, failed 0, held 0\n"
    file = spool / (item.idempotency_key.replace("/", "_") + ".json")
    assert json.loads(file.read_text(encoding="utf-8"))["payload"] == {"reasons": ["VKK conclusion"]}
    (row,) = _outbox(services, case)
    assert row.delivered_at is not None and row.delivered_to == f"spool:{file}"

    second = cli(env, "outbox", "deliver")
    assert second.stdout == "delivered 0, failed 0, held 0\n"
    assert _outbox(services, case)[0].attempts == 1


# --- HTTP -----------------------------------------------------------------------------------


class _Endpoint:
    """A real HTTP server on 127.0.0.1 that answers with the statuses it is given, in order."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict[str, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint.requests.append({
                    "path": self.path, "idempotency_key": self.headers.get("Idempotency-Key"),
                    "content_type": self.headers.get("Content-Type"), "body": json.loads(body),
                })
                status = endpoint.statuses.pop(0) if endpoint.statuses else 500
                reply = b'{"ok": true}' if status < 300 else b'{"error": "try later"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the http.server API)
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cabinet/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> _Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours proxy variables; the test server is local."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def test_http_transport_retries_with_backoff_and_delivers_once(services: Services) -> None:
    case, item = _refused_case(services)
    t0 = RECEIVED + timedelta(minutes=1)

    with _Endpoint([503, 503, 200]) as endpoint:
        transports = {"portal_cabinet": HttpTransport(endpoint.url, timeout=5)}

        first = deliver_outbox(services.write_uow, transports, now=t0)
        assert first.delivered == [] and list(first.failed) == [item.id]
        assert "503" in first.failed[item.id]
        (row,) = _outbox(services, case)
        assert (row.delivered_at, row.delivered_to, row.attempts) == (None, None, 1)
        assert row.last_error is not None and "503" in row.last_error
        assert _next_attempt_at(services, item.id) == t0 + timedelta(seconds=30)

        too_soon = deliver_outbox(services.write_uow, transports, now=t0 + timedelta(seconds=29))
        assert (too_soon.delivered, too_soon.failed) == ([], {})
        assert len(endpoint.requests) == 1

        t1 = t0 + timedelta(seconds=31)
        second = deliver_outbox(services.write_uow, transports, now=t1)
        assert list(second.failed) == [item.id]
        assert _outbox(services, case)[0].attempts == 2
        assert _next_attempt_at(services, item.id) == t1 + timedelta(seconds=60)  # doubled

        t2 = t1 + timedelta(seconds=61)
        third = deliver_outbox(services.write_uow, transports, now=t2)
        assert (third.delivered, third.failed) == ([item.id], {})

        later = deliver_outbox(services.write_uow, transports, now=t2 + timedelta(hours=3))
        assert (later.delivered, later.failed) == ([], {})

    assert len(endpoint.requests) == 3
    for request in endpoint.requests:
        assert request["path"] == "/cabinet/messages"
        assert request["idempotency_key"] == item.idempotency_key
        assert request["content_type"].startswith("application/json")
        assert request["body"]["payload"] == {"reasons": ["VKK conclusion"]}
        assert request["body"]["idempotency_key"] == item.idempotency_key
        assert request["body"]["message"] == "portal_cabinet.refusal"
    (row,) = _outbox(services, case)
    assert (row.delivered_at, row.delivered_to, row.attempts, row.last_error) == (t2, endpoint.url, 3, None)
    assert _count_events(services, "outbox_delivered") == 1


def test_http_transport_unreachable_endpoint_is_a_failed_attempt(services: Services) -> None:
    case, item = _refused_case(services)
    with _Endpoint([]) as endpoint:
        url = endpoint.url  # the port is free again once the server is closed
    result = deliver_outbox(services.write_uow, {"portal_cabinet": HttpTransport(url, timeout=2)},
                            now=RECEIVED)
    assert list(result.failed) == [item.id] and "unreachable" in result.failed[item.id]
    (row,) = _outbox(services, case)
    assert (row.delivered_at, row.attempts) == (None, 1)


# --- held channel ---------------------------------------------------------------------------


def test_channel_with_empty_target_holds_its_messages(services: Services, settings: Settings) -> None:
    case, item = _refused_case(services)
    held_settings = Settings.from_env(
        {**_cli_env(settings), "HOMESCHOOL_OUTBOX_PORTAL_CABINET": ""}, base=PROJECT
    )
    assert held_settings.outbox_targets["portal_cabinet"] == ""
    transports = build_transports(held_settings.outbox_targets)
    assert "portal_cabinet" not in transports and "sms" in transports

    result = deliver_outbox(services.write_uow, transports, now=RECEIVED)
    assert (result.delivered, result.failed, result.held) == ([], {}, [item.id])
    (row,) = _outbox(services, case)
    assert row.delivered_at is None and row.delivered_to is None
    assert row.last_error is not None and "portal_cabinet" in row.last_error
    assert _next_attempt_at(services, item.id) == RECEIVED + MAX_RETRY_DELAY

    # Kept, not dropped: once the channel has a target, the next due pass delivers it.
    spool = SpoolTransport(Path(str(settings.instance_dir)) / "late-spool")
    later = deliver_outbox(services.write_uow, {"portal_cabinet": spool}, now=RECEIVED + MAX_RETRY_DELAY)
    assert later.delivered == [item.id]
    assert _outbox(services, case)[0].delivered_to.startswith("spool:")


def test_worker_once_with_held_channel_keeps_the_message(
    services: Services, settings: Settings, cli: Any
) -> None:
    case, item = _refused_case(services)
    result = cli(_cli_env(settings, HOMESCHOOL_OUTBOX_PORTAL_CABINET=""), "worker", "--once")
    assert result.exit_code == 0, result.stderr
    (row,) = _outbox(services, case)
    assert row.id == item.id and row.delivered_at is None and row.attempts == 1


# --- the worker command ---------------------------------------------------------------------


def test_worker_once_fires_a_timer_that_is_past_due_on_the_real_clock(
    services: Services, settings: Settings, cli: Any
) -> None:
    case = _start(services, "WORK-1")
    _complete_clerk_task(services, case, {"package_complete": True})
    with services.uow(write=False) as uow:
        assert [t.due_at for t in uow.timers.for_instance(case)] == [DEADLINE]
    assert Services.now() > DEADLINE  # the worker uses the real clock

    result = cli(_cli_env(settings), "worker", "--once")
    assert result.exit_code == 0, result.stderr

    with services.uow(write=False) as uow:
        view = case_view(uow, services.runtime, actor=SYSTEM, instance_id=case)
        assert list_tasks(uow, services.runtime, actor=SYSTEM, role="head").total == 0
        assert uow.timers.count() == 0
    assert view.status == "completed" and view.timers == [] and view.open_tasks == []
    assert [(e.element_id, e.actor) for e in view.history if e.action == "timer_fired"] == [
        ("review_deadline", "system:timer")
    ]


def test_worker_once_delivers_the_outbox_to_the_spool(
    services: Services, settings: Settings, tmp_path: Path, cli: Any
) -> None:
    case, item = _refused_case(services)
    spool = tmp_path / "worker-spool"
    result = cli(_cli_env(settings, HOMESCHOOL_OUTBOX_PORTAL_CABINET=f"spool:{spool}"), "worker", "--once")
    assert result.exit_code == 0, result.stderr
    (row,) = _outbox(services, case)
    assert row.delivered_at is not None and row.delivered_to.startswith(f"spool:{spool}")
    assert (spool / (item.idempotency_key.replace("/", "_") + ".json")).is_file()


# --- several workers ------------------------------------------------------------------------


def test_three_workers_fire_thirty_due_timers_each_exactly_once(services: Services) -> None:
    cases = []
    for n in range(30):
        case = _start(services, f"RACE-{n:02}")
        _complete_clerk_task(services, case, {"package_complete": True})
        cases.append(case)
    with services.uow(write=False) as uow:
        assert uow.timers.count() == 30

    now = DEADLINE + timedelta(days=1)
    barrier = threading.Barrier(3)
    fired: dict[int, list[int]] = {}
    failed: dict[int, dict[int, str]] = {}
    crashed: dict[int, BaseException] = {}

    def work(worker: int) -> None:
        try:
            barrier.wait(10)
            sweep = fire_due_timers(services.write_uow, services.runtime, now=now, limit=1000,
                                    actor=f"system:timer-{worker}")
            fired[worker], failed[worker] = sweep.fired, sweep.failed
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            crashed[worker] = exc

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)

    assert crashed == {}
    assert failed == {0: {}, 1: {}, 2: {}}
    everything = [case for worker in sorted(fired) for case in fired[worker]]
    assert len(everything) == 30, fired  # nobody fired a case twice …
    assert set(everything) == set(cases)  # … and every case was fired

    with services.uow(write=False) as uow:
        assert uow.timers.count() == 0
        timer_events = [e for case in cases for e in uow.events.for_instance(case) if e.action == "timer_fired"]
        statuses = {case_view(uow, services.runtime, actor=SYSTEM, instance_id=case).status for case in cases}
    assert len(timer_events) == 30
    assert sorted(e.instance_id for e in timer_events) == sorted(cases)
    assert statuses == {"completed"}
    assert {e.actor for e in timer_events} <= {"system:timer-0", "system:timer-1", "system:timer-2"}


# --- leases: no lock held while sending, nothing lost if a worker dies mid-send --------------


def test_sending_holds_no_database_lock(services: Services) -> None:
    """A slow outside system must not block clerks: writes succeed while a message is in flight."""
    case, item = _refused_case(services)
    written: list[str] = []

    class WritesWhileSending:
        def send(self, sent: OutboxItem) -> str:
            with services.uow() as uow:  # on SQLite this would wait 30 s and fail if a write lock were held
                uow.events.append([EventRecord(at=at("2026-03-20T17:05+05:00"), actor="clerk", action="note",
                                               instance_id=case)])
                uow.commit()
            written.append(sent.idempotency_key)
            return "test:ok"

    result = deliver_outbox(services.write_uow, {"portal_cabinet": WritesWhileSending()},
                            now=at("2026-03-20T17:05+05:00"))
    assert result.delivered == [item.id] and written == [item.idempotency_key]


def test_a_message_claimed_by_a_dead_worker_is_sent_after_its_lease(services: Services) -> None:
    _, item = _refused_case(services)
    claimed_at = at("2026-03-20T17:05+05:00")
    with services.uow() as uow:  # a worker claims the message, then dies before sending it
        assert [m.id for m in uow.outbox.claim_due(claimed_at, 10, lease_until=claimed_at + CLAIM_LEASE)] == [item.id]
        uow.commit()
    sent: list[int] = []

    class Recording:
        def send(self, message: OutboxItem) -> str:
            sent.append(message.id)
            return "test:ok"

    transports = {"portal_cabinet": Recording()}
    assert deliver_outbox(services.write_uow, transports, now=claimed_at + CLAIM_LEASE / 2).delivered == []
    later = claimed_at + CLAIM_LEASE + timedelta(seconds=1)
    assert deliver_outbox(services.write_uow, transports, now=later).delivered == [item.id]
    assert sent == [item.id]
