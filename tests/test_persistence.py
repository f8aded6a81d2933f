"""Storage: compact state, diagram versions, schema = models, append-only log, index-only hot reads."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import DBAPIError, StatementError

from service.application.cases import complete_task, start_case
from service.application.queries import list_tasks
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.config import Settings
from service.domain.errors import CaseHasIncident
from service.domain.model import EventRecord
from service.engine.library import DiagramLibrary, parse_diagram
from service.persistence.database import Database
from service.persistence.models import Base, EventLogEntry
from service.persistence.uow import UnitOfWork

from .support import DIAGRAMS, SYSTEM, at, build_test_services, owners, person, pg_url

NOW = at("2026-03-20T11:00+05:00")


def _start(services: Services, key: str) -> int:
    with services.uow() as uow:
        return start_case(uow, services.runtime, process_id="intake_demo", business_key=key,
                          data={"received_at": NOW.isoformat()}, actor=SYSTEM, owners=owners(services),
                          now=NOW).instance_id


def test_state_is_stored_without_the_spec_and_with_its_serializer_version(services: Services) -> None:
    case = _start(services, "APP-1")
    with services.uow(write=False) as uow:
        stored = uow.instances.get(case)
    state = json.loads(stored.state)
    assert "spec" not in state and "subprocess_specs" not in state
    assert stored.serializer_version == state["serializer_version"] == "1.5"
    assert len(stored.state) < 6000  # the spec alone would add ~12 KB


def test_a_case_resumes_on_its_own_version_after_the_diagram_changed(settings: Settings) -> None:
    first = build_test_services(settings, _library(DIAGRAMS / "intake_demo.bpmn"))
    case = _start(first, "APP-1")
    first.database.dispose()

    # A restart after an analyst edited the diagram: only the new version is loaded from files.
    changed = (DIAGRAMS / "intake_demo.bpmn").read_bytes().replace(b"Review by the head", b"Head's review")
    library = DiagramLibrary()
    library.add(parse_diagram(changed, "intake_demo.bpmn"))
    second = build_test_services(settings, library)
    clerk = person(second, "office_clerk")
    try:
        with second.uow() as uow:
            stored = uow.instances.get(case)
            assert not second.engine.library.has_version(stored.diagram_hash)
        with second.uow(write=False) as uow:
            task = list_tasks(uow, second.runtime, actor=SYSTEM, role="office_clerk").items[0]
        with second.uow() as uow:
            complete_task(uow, second.runtime, task_id=task.task_id, actor=clerk, now=NOW,
                          data={"package_complete": True})
        with second.uow(write=False) as uow:
            [review] = list_tasks(uow, second.runtime, actor=SYSTEM, role="head").items
        assert review.title == "Review by the head"  # the old version's wording, parsed from the database
        new_case = _start(second, "APP-2")
        with second.uow(write=False) as uow:
            assert uow.instances.get(new_case).diagram_hash != stored.diagram_hash
    finally:
        second.database.dispose()


def _library(path) -> DiagramLibrary:
    library = DiagramLibrary()
    library.load_files([path], base=path.parent)
    return library


def test_migrations_create_exactly_the_models(services: Services) -> None:
    with services.database.write_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_event_log_is_append_only_in_the_database(services: Services) -> None:
    with services.uow() as uow:
        uow.events.append([EventRecord(at=NOW, actor="clerk", action="note")])
        uow.commit()
    for statement in ("UPDATE event_log SET actor = 'someone else'", "DELETE FROM event_log"):
        with services.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
            uow.session.execute(text(statement))
    with services.uow(write=False) as uow:
        assert uow.session.execute(text("SELECT actor FROM event_log")).scalars().all() == ["clerk"]


def test_naive_instants_are_refused_by_storage(services: Services) -> None:
    with services.uow() as uow, pytest.raises(StatementError, match="naive datetime"):
        uow.events.append([EventRecord(at=NOW.replace(tzinfo=None), actor="clerk", action="note")])


def test_task_list_and_timer_sweep_never_deserialize_a_workflow(services: Services, monkeypatch) -> None:
    for n in range(5):
        _start(services, f"APP-{n}")
    clerk = person(services, "office_clerk")

    def forbidden(*args, **kwargs):
        raise AssertionError("a read path deserialized a workflow")

    monkeypatch.setattr(services.engine, "resume", forbidden)
    monkeypatch.setattr(services.engine.serializer, "restore", forbidden)
    with services.uow(write=False) as uow:
        assert list_tasks(uow, services.runtime, actor=clerk, per_page=2).total == 5
    assert fire_due_timers(services.write_uow, services.runtime, now=at("2026-12-31T00:00+05:00")).fired == []


def test_hot_queries_use_their_indexes(services: Services) -> None:
    indexes = {
        (table, tuple(ix["column_names"]))
        for table in ("open_tasks", "pending_timers")
        for ix in inspect(services.database.write_engine).get_indexes(table)
    }
    assert ("open_tasks", ("organisation_id", "lane", "created_at", "task_id")) in indexes
    assert ("pending_timers", ("fire_at",)) in indexes
    if services.database.dialect != "sqlite":
        return  # PostgreSQL's planner picks sequential scans on tiny tables; the indexes exist
    with services.uow(write=False) as uow:
        plan = " ".join(str(r) for r in uow.session.execute(text(
            "EXPLAIN QUERY PLAN SELECT task_id, title FROM open_tasks WHERE organisation_id = 1 AND lane = 'head' "
            "ORDER BY created_at, task_id LIMIT 50")))
        assert "ix_open_tasks_org_lane_created" in plan and "TEMP B-TREE" not in plan
        plan = " ".join(str(r) for r in uow.session.execute(text(
            "EXPLAIN QUERY PLAN SELECT instance_id FROM pending_timers WHERE fire_at <= '2026-01-01' "
            "ORDER BY fire_at LIMIT 50")))
        assert "ix_pending_timers_fire_at" in plan


def _ended(engine: object) -> list[str]:
    """How each transaction on ``engine``'s connections ends from now on: 'commit' or 'rollback'."""
    ended: list[str] = []
    event.listen(engine, "commit", lambda _connection: ended.append("commit"))
    event.listen(engine, "rollback", lambda _connection: ended.append("rollback"))
    return ended


def test_a_read_that_went_well_commits_and_anything_else_rolls_back(services: Services) -> None:
    case = _start(services, "APP-READ")
    ended = _ended(services.database.read_engine)
    with services.uow(write=False) as uow:
        assert uow.instances.get(case) is not None
    assert ended == ["commit"]

    ended.clear()
    with pytest.raises(LookupError), services.uow(write=False) as uow:
        uow.instances.get(case)
        raise LookupError("the use case failed")
    assert ended == ["rollback"]

    ended = _ended(services.database.write_engine)
    with services.uow() as uow:  # a write nobody committed is undone
        uow.instances.get(case, lock=True)
    assert ended == ["rollback"]


@pytest.mark.skipif(pg_url() is None, reason="server-side prepared statements are PostgreSQL's")
def test_postgresql_keeps_the_hot_statements_prepared_across_reads(services: Services, database_url: str) -> None:
    case = _start(services, "APP-PREPARED")
    database = Database(database_url)  # a pool of its own, used in turn: one connection
    try:
        for _ in range(8):  # the driver prepares a statement at its sixth run on a connection
            with UnitOfWork(database, write=False) as uow:
                assert uow.instances.get(case) is not None
        with UnitOfWork(database, write=False) as uow:
            prepared = uow.session.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    finally:
        database.dispose()
    assert any("FROM process_instances" in statement for statement in prepared), prepared


def _clerk_task(services: Services, case: int) -> str:
    with services.uow(write=False) as uow:
        [task] = uow.tasks.for_instance(case)
    return task.task_id


def test_a_write_refused_in_the_step_s_batch_fails_the_step_and_keeps_nothing(services: Services) -> None:
    case = _start(services, "APP-BATCH")
    with services.uow(write=False) as uow:
        before = uow.instances.get(case)
    assert before is not None
    with services.uow() as uow:  # the outbox row the step will queue (its key) is already there
        uow.outbox.add(channel="monitoring", name="monitoring.stage_changed", idempotency_key=(
            f"intake_demo/{case}/v{before.version + 1}/0"), instance_id=case, business_key="APP-BATCH", payload={},
            now=NOW)
        uow.commit()
    task_id = _clerk_task(services, case)
    with pytest.raises(CaseHasIncident, match="UNIQUE|unique"), services.uow() as uow:  # on SQLite: at once
        complete_task(uow, services.runtime, task_id=task_id, actor=person(services, "office_clerk"), now=NOW,
                      data={"package_complete": True})
    with services.uow(write=False) as uow:
        after = uow.instances.get(case)
        assert after is not None and (after.version, after.state) == (before.version, before.state)
        assert [task.task_id for task in uow.tasks.for_instance(case)] == [task_id]
        assert "task_completed" not in [event.action for event in uow.events.for_instance(case)]


@pytest.mark.skipif(pg_url() is None, reason="round trips to the server are PostgreSQL's")
def test_a_step_on_postgresql_sends_its_last_writes_in_one_round_trip(services: Services,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    case = _start(services, "APP-TRIPS")
    task_id = _clerk_task(services, case)
    sent: list[tuple[str, bool]] = []  # (statement, whether it went in the driver's pipeline)
    execute = psycopg.Cursor.execute

    def recorded(cursor: psycopg.Cursor, query: object, *args: object, **kwargs: object) -> object:
        sent.append((" ".join(str(query).split()[:3]), cursor.connection._pipeline is not None))  # noqa: SLF001
        return execute(cursor, query, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Cursor, "execute", recorded)
    with services.uow() as uow:
        complete_task(uow, services.runtime, task_id=task_id, actor=person(services, "office_clerk"), now=NOW,
                      data={"package_complete": True})
    batched = {statement for statement, pipelined in sent if pipelined}
    assert batched == {"UPDATE open_tasks SET", "UPDATE case_index SET", "INSERT INTO outbox", "INSERT INTO event_log"}
    assert ("UPDATE process_instances SET", False) in sent  # its row count is the version check: sent alone


def test_instants_written_together_each_keep_their_own_value(services: Services) -> None:
    later = NOW + timedelta(seconds=1)
    instants = [NOW, later, NOW, NOW, later.astimezone(UTC), NOW]  # the same objects again, and an equal one
    with services.uow() as uow:
        uow.events.append([EventRecord(at=when, actor=f"a{i}", action="note") for i, when in enumerate(instants)])
        uow.commit()
    with services.uow(write=False) as uow:
        found = uow.session.execute(select(EventLogEntry.actor, EventLogEntry.at).order_by(EventLogEntry.id)).all()
    assert [tuple(row) for row in found] == [(f"a{i}", when) for i, when in enumerate(instants)]


def test_an_empty_instant_column_between_two_does_not_convert_now_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.dialects import sqlite

    from service.persistence import models, prepared

    calls: list[object] = []
    original = models.UtcDateTime.process_bind_param

    def counted(self: models.UtcDateTime, value: object, dialect: object) -> object:
        calls.append(value)
        return original(self, value, dialect)  # type: ignore[arg-type]

    monkeypatch.setattr(models.UtcDateTime, "process_bind_param", counted)
    monkeypatch.setattr(prepared, "_LAST_INSTANT", {})
    convert = prepared._converter(models.UtcDateTime(), sqlite.dialect())  # noqa: SLF001
    assert convert is not None
    first = convert(NOW)
    assert convert(None) is None  # e.g. delivered_at, between created_at and next_attempt_at
    assert convert(NOW) == first
    assert calls == [NOW, None]  # "now" converted once, not again after the empty column


def test_the_hot_reads_select_their_columns_in_the_order_of_the_fields_they_fill() -> None:
    from dataclasses import fields

    from service.domain.model import TaskSummary
    from service.persistence import repositories
    from service.persistence.repositories import StoredInstance

    assert tuple(field.name for field in fields(TaskSummary)) == repositories._TASK_NAMES  # noqa: SLF001
    assert tuple(field.name for field in fields(StoredInstance)) == repositories._INSTANCE_NAMES  # noqa: SLF001
