"""The event log stays append-only against TRUNCATE and trigger changes too (PostgreSQL).

Migration 0011 refuses TRUNCATE with a trigger; a service role that does not own the tables (README,
"Database roles") can neither truncate nor disable the log's triggers, and runs cases as usual.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from service.application.cases import complete_task, start_case
from service.application.queries import case_view, list_tasks
from service.bootstrap import Services
from service.config import Settings
from service.domain.model import EventRecord
from service.engine.library import DiagramLibrary

from .support import SYSTEM, at, build_test_services, owners, person, pg_url

pytestmark = pytest.mark.skipif(pg_url() is None, reason="TRUNCATE and table ownership are PostgreSQL's")

NOW = at("2026-03-20T11:00+05:00")


def _note(services: Services) -> None:
    with services.uow() as uow:
        uow.events.append([EventRecord(at=NOW, actor="clerk", action="note")])
        uow.commit()


def test_truncate_of_the_event_log_is_refused(services: Services) -> None:
    _note(services)
    with services.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
        uow.session.execute(text("TRUNCATE event_log"))
    with services.uow(write=False) as uow:
        assert uow.session.execute(text("SELECT count(*) FROM event_log")).scalar_one() == 1


@pytest.fixture
def service_role(database_url: str) -> Iterator[str]:
    """A role that does not own the tables, granted what README says; yields a URL connecting as it."""
    role = f"hs_app_{uuid.uuid4().hex[:10]}"
    schema = database_url.split("search_path%3D", 1)[1].split("&", 1)[0]
    owner = create_engine(database_url)
    with owner.begin() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        connection.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        connection.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
        connection.execute(text(f'REVOKE UPDATE, DELETE ON "{schema}".event_log FROM "{role}"'))
        connection.execute(text(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"'))
    yield database_url.replace("options=", f"options=-crole%3D{role}%20", 1)
    with owner.begin() as connection:
        connection.execute(text(f'DROP OWNED BY "{role}"'))
        connection.execute(text(f'DROP ROLE "{role}"'))
    owner.dispose()


def test_a_role_that_does_not_own_the_tables_cannot_disable_the_guards_and_runs_cases(
    settings: Settings, library: DiagramLibrary, service_role: str,
) -> None:
    services = build_test_services(dataclasses.replace(settings, database_url=service_role), library)
    try:
        with services.uow(write=False) as uow:
            assert uow.session.execute(text("SELECT current_user")).scalar_one().startswith("hs_app_")
        for statement in ("ALTER TABLE event_log DISABLE TRIGGER ALL", "ALTER TABLE event_log DISABLE TRIGGER USER",
                          "DROP TRIGGER event_log_no_truncate ON event_log", "TRUNCATE event_log",
                          "UPDATE event_log SET actor = 'x'", "DELETE FROM event_log"):
            with services.uow() as uow, pytest.raises(DBAPIError, match="owner|permission denied|append-only"):
                uow.session.execute(text(statement))
        with services.uow() as uow:  # a normal case: started, its task completed, all logged
            ref = start_case(uow, services.runtime, process_id="intake_demo", business_key="ROLE-1",
                             data={"received_at": NOW.isoformat()}, actor=SYSTEM, owners=owners(services), now=NOW)
        with services.uow(write=False) as uow:
            task = list_tasks(uow, services.runtime, actor=SYSTEM, role="office_clerk").items[0]
        with services.uow() as uow:
            complete_task(uow, services.runtime, actor=person(services, "office_clerk", login="c"),
                          task_id=task.task_id, data={"package_complete": True}, now=NOW)
        with services.uow(write=False) as uow:
            history = case_view(uow, services.runtime, actor=SYSTEM, instance_id=ref.instance_id).history
        assert [e.action for e in history][:1] == ["case_started"]
        assert "task_completed" in [e.action for e in history]
    finally:
        services.database.dispose()
