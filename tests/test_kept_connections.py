"""Connections kept between units of work: reused only whole, never shared, closed when they should be."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from service.domain.model import EventRecord
from service.persistence import database as database_module
from service.persistence.database import KEEP_BETWEEN_UNITS, PING_AFTER_IDLE_SECONDS, Database
from service.persistence.models import EventLogEntry
from service.persistence.uow import UnitOfWork

from .support import at

NOW = at("2026-03-20T11:00+05:00")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    found = Database(database_url)
    yield found
    found.dispose()


def _checkouts(database: Database) -> list[int]:
    """Counts the pool's checkouts of the write engine (one item each)."""
    taken: list[int] = []
    event.listen(database.write_engine, "checkout", lambda *_args: taken.append(1))
    return taken


def _events(database: Database) -> int:
    with UnitOfWork(database, write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(EventLogEntry)).scalar_one())


def test_units_of_work_in_a_row_take_the_connection_the_last_one_handed_back(database: Database) -> None:
    taken = _checkouts(database)
    seen = []
    for _ in range(5):
        with UnitOfWork(database) as uow:
            seen.append(uow.session)
            uow.events.append([EventRecord(at=NOW, actor="a", action="note")])
            uow.commit()
    assert len(taken) == 1  # one checkout from the pool, not five
    assert all(connection is seen[0] for connection in seen)
    assert _events(database) == 5


def test_a_unit_of_work_inside_another_gets_a_connection_of_its_own(database: Database) -> None:
    with UnitOfWork(database, write=False) as outer:
        with UnitOfWork(database, write=False) as inner:
            assert inner.session is not outer.session
        with UnitOfWork(database, write=False) as again:  # the inner one's, handed back meanwhile
            assert again.session is inner.session
            assert again.session is not outer.session


def test_what_a_unit_of_work_did_not_commit_is_gone_before_its_connection_is_reused(database: Database) -> None:
    with UnitOfWork(database) as uow:
        uow.events.append([EventRecord(at=NOW, actor="a", action="note")])
        kept = uow.session
    with UnitOfWork(database) as uow:
        assert uow.session is kept
        assert not uow.session.execute(select(EventLogEntry.id)).all()
        uow.commit()
    assert _events(database) == 0


def test_a_broken_connection_is_closed_not_kept(database: Database) -> None:
    with UnitOfWork(database) as uow:
        broken = uow.session
        uow.session.invalidate()  # as SQLAlchemy does when the server drops the link
    assert broken.closed
    with UnitOfWork(database) as uow:
        assert uow.session is not broken
        uow.events.append([EventRecord(at=NOW, actor="a", action="note")])
        uow.commit()
    assert _events(database) == 1


def test_dispose_closes_the_kept_connections_and_those_in_use_when_they_come_back(database: Database) -> None:
    with UnitOfWork(database, write=False) as first:
        kept = first.session
    with UnitOfWork(database, write=False) as busy:
        assert busy.session is kept
        with UnitOfWork(database, write=False) as other:
            idle = other.session
        database.dispose()
        assert idle.closed  # kept, idle: closed at once
        assert not busy.session.closed  # in use: left alone
    assert kept.closed  # handed back after dispose(): closed, not kept
    with UnitOfWork(database, write=False) as uow:
        assert uow.session is not kept and uow.session is not idle


def test_no_more_than_a_few_connections_are_kept(database: Database) -> None:
    units = [UnitOfWork(database, write=False) for _ in range(KEEP_BETWEEN_UNITS + 2)]
    for unit in units:
        unit.__enter__()
    connections = [unit.session for unit in units]
    for unit in units:
        unit.__exit__(None, None, None)
    assert sum(not connection.closed for connection in connections) == KEEP_BETWEEN_UNITS


def test_a_server_connection_kept_too_long_goes_back_to_the_pool_which_pings_it(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if database.dialect == "sqlite":
        pytest.skip("only server connections are pinged (a SQLite file cannot go away between statements)")
    clock = [1000.0]
    monkeypatch.setattr(database_module.time, "monotonic", lambda: clock[0])
    pinged: list[Any] = []
    original = database.write_engine.dialect.do_ping
    monkeypatch.setattr(database.write_engine.dialect, "do_ping",
                        lambda connection: pinged.append(connection) or original(connection))
    with UnitOfWork(database, write=False) as uow:
        first = uow.session
    clock[0] += PING_AFTER_IDLE_SECONDS / 2
    with UnitOfWork(database, write=False) as uow:
        assert uow.session is first  # used moments ago: taken as it is
    assert not pinged
    clock[0] += PING_AFTER_IDLE_SECONDS * 2
    with UnitOfWork(database, write=False) as uow:
        assert uow.session is not first  # too long kept: a checkout from the pool …
        uow.session.execute(select(1))
    assert len(pinged) == 1  # … which pinged it, as it pings any connection idle that long


def test_threads_working_at_once_never_share_a_connection(database: Database) -> None:
    import threading

    in_use: set[int] = set()
    guard = threading.Lock()
    problems: list[str] = []

    def work(number: int) -> None:
        try:
            for round_ in range(40):
                with UnitOfWork(database, write=round_ % 4 == 0) as uow:
                    mine = id(uow.session)
                    with guard:
                        if mine in in_use:
                            problems.append(f"thread {number} got a connection in use")
                        in_use.add(mine)
                    uow.session.execute(select(func.count()).select_from(EventLogEntry)).scalar_one()
                    if uow.write:
                        uow.events.append([EventRecord(at=NOW, actor=f"t{number}", action="note")])
                        uow.commit()
                    with guard:
                        in_use.discard(mine)
        except Exception as exc:  # noqa: BLE001 — reported below, with the thread it happened in
            problems.append(f"thread {number}: {exc!r}")

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert problems == []
    assert _events(database) == 8 * 10
    assert len(database._kept[True].idle) <= KEEP_BETWEEN_UNITS  # noqa: SLF001
