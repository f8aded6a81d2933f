"""The floor of one durable step: the least any design must do to complete a task and keep it.

Deserialize the workflow, run the engine step, serialize it, and in one transaction on the plain
database driver with statements written out once: lock and read the state with its task in one
SELECT (``FOR UPDATE`` on PostgreSQL; SQLite's write lock is taken by ``BEGIN IMMEDIATE``),
UPDATE the state with the version check, UPDATE the open-task row in place (DELETE when the
case ends), INSERT the event, INSERT the outbox row — 5 statements — and one COMMIT. It runs on
the product's own tables, states and serializer, so state sizes and indexes are the real ones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from service.engine.runtime import ProcessEngine


class FloorStep:
    """Completes tasks of cases the product started, the floor's way, on one driver connection."""

    def __init__(self, raw_connection: Any, dialect: str, engine: ProcessEngine) -> None:
        self.connection = raw_connection
        self.postgres = dialect == "postgresql"
        self.engine = engine
        p = "%s" if self.postgres else "?"
        js = f"CAST({p} AS JSON)" if self.postgres else p
        self.begin = None if self.postgres else "BEGIN IMMEDIATE"
        self.lock = (
            "SELECT p.id, p.process_id, p.business_key, p.diagram_hash, p.state, p.version, t.element_id "
            f"FROM open_tasks t JOIN process_instances p ON p.id = t.instance_id WHERE t.task_id = {p}"
            + (" FOR UPDATE" if self.postgres else "")
        )
        self.save = (f"UPDATE process_instances SET state = {p}, status = {p}, version = {p}, updated_at = {p} "
                     f"WHERE id = {p} AND version = {p}")
        self.move_task = (f"UPDATE open_tasks SET task_id = {p}, element_id = {p}, title = {p}, created_at = {p} "
                          f"WHERE task_id = {p}")
        self.close_task = f"DELETE FROM open_tasks WHERE task_id = {p}"
        self.log = ("INSERT INTO event_log (at, instance_id, business_key, actor, action, element_id, paragraph, "
                    f"details) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {js})")
        self.queue = ("INSERT INTO outbox (channel, message_name, idempotency_key, instance_id, business_key, "
                      f"payload, created_at, attempts, next_attempt_at) VALUES ({p}, {p}, {p}, {p}, {p}, {js}, {p}, "
                      f"0, {p})")

    def _instant(self, now: datetime) -> Any:
        # SQLite keeps the product's instants as UTC text; psycopg takes the datetime itself.
        return now if self.postgres else now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def complete(self, task_id: str, data: dict[str, Any], actor: str, now: datetime) -> str | None:
        """Complete ``task_id`` with ``data``; the id of the task now open, None when the case ended."""
        cursor = self.connection.cursor()
        try:
            if self.begin:
                cursor.execute(self.begin)
            cursor.execute(self.lock, (task_id,))
            case, process_id, business_key, diagram_hash, state, version, element_id = cursor.fetchone()
            diagram = self.engine.library.version(diagram_hash)
            workflow = self.engine.serializer.restore(state, diagram.spec, dict(diagram.subprocess_specs))
            workflow.script_engine = self.engine._script_engine  # noqa: SLF001 — the product's engine, as it runs
            task = workflow.get_task_from_id(UUID(task_id))
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            done = workflow.is_completed()
            text = self.engine.serializer.dump(workflow)
            at = self._instant(now)
            cursor.execute(self.save, (text, "completed" if done else "running", version + 1, at, case, version))
            if cursor.rowcount != 1:
                raise RuntimeError(f"case {case} changed under the floor's lock")
            following = str(ready[0].id) if ready else None
            if following is not None:
                cursor.execute(self.move_task, (following, ready[0].task_spec.bpmn_id, ready[0].task_spec.bpmn_name
                                                or ready[0].task_spec.bpmn_id, at, task_id))
            else:
                cursor.execute(self.close_task, (task_id,))
            cursor.execute(self.log, (at, case, business_key, actor, "task_completed", element_id, None,
                                      json.dumps({"task": element_id, "fields": sorted(data)})))
            cursor.execute(self.queue, ("monitoring", "monitoring.stage_changed",
                                        f"floor/{process_id}/{case}/v{version + 1}", case, business_key,
                                        json.dumps({"business_key": business_key, "step": element_id}), at, at))
            self.connection.commit()
        except BaseException:
            self.connection.rollback()
            raise
        finally:
            cursor.close()
        return following
