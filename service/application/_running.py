"""Shared steps of every use case that moves a case: resume it, save it with its projections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.errors import NotFound
from service.domain.model import EventRecord, Snapshot
from service.engine.library import Diagram
from service.engine.runtime import ProcessRun
from service.persistence.repositories import StoredInstance
from service.persistence.uow import UnitOfWork

from .runtime import Runtime

#: Kept messages delivered into one case in one transaction, at most (guards against loops).
MAX_INBOX_DELIVERIES_PER_RUN = 20


@dataclass(frozen=True)
class CaseRef:
    """Where a case stands after a use case: its id, key, status and lock version."""

    instance_id: int
    process_id: str
    business_key: str
    status: str
    version: int


def store_diagram(uow: UnitOfWork, diagram: Diagram, now: datetime) -> None:
    """Keep this diagram version in the database (once per content hash)."""
    uow.diagrams.ensure(diagram.content_hash, diagram.process_id, diagram.file, diagram.source, now)


def load_case(uow: UnitOfWork, instance_id: int) -> StoredInstance:
    """The case row, locked for the rest of the transaction."""
    stored = uow.instances.get(instance_id, lock=True)
    if stored is None:
        raise NotFound(f"case {instance_id} does not exist")
    return stored


def resume(uow: UnitOfWork, runtime: Runtime, stored: StoredInstance) -> ProcessRun:
    """The live workflow of a stored case, on the diagram version it was started with."""
    if runtime.engine.library.has_version(stored.diagram_hash):
        diagram = runtime.engine.library.version(stored.diagram_hash)
    else:  # not cached in this process (an older version): parse the stored bytes once
        found = uow.diagrams.source(stored.diagram_hash)
        if found is None:
            raise NotFound(f"diagram version {stored.diagram_hash[:12]} of case {stored.id} is missing") from None
        diagram = runtime.engine.library.version(stored.diagram_hash, source=found[0], file=found[1])
    return runtime.engine.resume(diagram, stored.state)


def drain_inbox(uow: UnitOfWork, run: ProcessRun, instance_id: int, business_key: str,
                actor: str, now: datetime) -> list[EventRecord]:
    """Deliver kept messages the case is now ready for, oldest first."""
    events: list[EventRecord] = []
    for _ in range(MAX_INBOX_DELIVERIES_PER_RUN):
        pending = uow.inbox.pending_for(run.awaited_messages(), business_key)
        if not pending:
            break
        entry = pending[0]
        run.deliver_message(entry.message_name, entry.payload, now)
        uow.inbox.mark_delivered(entry.id, instance_id, now)
        events.append(EventRecord(
            at=now, actor=actor, action="message_delivered", instance_id=instance_id,
            business_key=business_key, details={"message": entry.message_name, "from_inbox": True},
        ))
    return events


def _step_events(snapshot: Snapshot, instance_id: int, business_key: str, actor: str,
                 now: datetime) -> list[EventRecord]:
    """Log the automatic steps that carry out a paragraph of the Rules."""
    return [
        EventRecord(
            at=now, actor=actor, action="step", instance_id=instance_id, business_key=business_key,
            element_id=step.element_id, paragraph=",".join(step.paragraphs),
            details={"name": step.name, "kind": step.kind},
        )
        for step in snapshot.steps
        if step.paragraphs and step.kind != "userTask"
    ]


def save_run(uow: UnitOfWork, run: ProcessRun, stored: StoredInstance, *, actor: str, now: datetime,
             events: list[EventRecord]) -> CaseRef:
    """Write state, projections, outbox and event log of one use case, all in its transaction."""
    snapshot = run.snapshot()
    status = "completed" if snapshot.completed else "running"
    version = uow.instances.save(
        stored.id, expected_version=stored.version, state=run.dump(), status=status,
        serializer_version=run.serializer_version, now=now,
    )
    uow.tasks.replace_for_instance(stored.id, stored.process_id, stored.business_key, snapshot.open_tasks, now)
    uow.timers.replace_for_instance(stored.id, snapshot.timers)
    uow.awaited.replace_for_instance(stored.id, stored.business_key, snapshot.awaited_messages)
    for seq, message in enumerate(snapshot.outgoing):
        uow.outbox.add(
            channel=message.channel, name=message.name,
            idempotency_key=f"{stored.process_id}/{stored.id}/v{version}/{seq}",
            instance_id=stored.id, business_key=stored.business_key, payload=message.payload, now=now,
        )
    records = list(events) + _step_events(snapshot, stored.id, stored.business_key, actor, now)
    records += [
        EventRecord(at=now, actor=actor, action="outbox_queued", instance_id=stored.id,
                    business_key=stored.business_key, details={"message": m.name, "channel": m.channel})
        for m in snapshot.outgoing
    ]
    if snapshot.completed and stored.status != "completed":
        records.append(EventRecord(at=now, actor=actor, action="case_completed", instance_id=stored.id,
                                   business_key=stored.business_key))
    uow.events.append(records)
    return CaseRef(stored.id, stored.process_id, stored.business_key, status, version)
