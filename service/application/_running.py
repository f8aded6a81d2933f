"""Shared steps of every use case that moves a case: resume it, save it with its projections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.documents.sms import SmsTemplateError, with_text
from service.domain.errors import InvalidInput, NotFound
from service.domain.model import EventRecord, OutgoingMessage, Snapshot
from service.domain.organisations import Organisation
from service.domain.outbox import document_kind
from service.domain.staff import Actor, known_roles, signature_title
from service.domain.stages import STAGES, UNMAPPED, stage_names
from service.engine.library import Diagram
from service.engine.runtime import ProcessRun
from service.persistence.repositories import StoredInstance
from service.persistence.uow import UnitOfWork

from .case_index import index_step, note_people
from .process_access import ProcessAccess, process_lanes
from .runtime import Runtime, Signatory

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


@dataclass(frozen=True)
class CaseOwners:
    """Which organisations a new case belongs to."""

    #: The school that provides the service, or the body a complaint is addressed to.
    organisation_id: int
    #: For a complaint: the organisation whose act is appealed.
    appealed_organisation_id: int | None = None
    #: For a complaint: the service case it is about.
    related_instance_id: int | None = None


def store_diagram(uow: UnitOfWork, diagram: Diagram, now: datetime) -> None:
    """Keep this diagram version in the database (once per content hash)."""
    known = uow.database.stored_diagrams
    if diagram.content_hash in known:
        return
    if not uow.diagrams.ensure(diagram.content_hash, diagram.process_id, diagram.file, diagram.source, now):
        known.add(diagram.content_hash)  # only versions already committed are remembered


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
    run = runtime.engine.resume(diagram, stored.state)
    note_people(run)
    return run


def drain_inbox(uow: UnitOfWork, run: ProcessRun, instance_id: int, business_key: str,
                actor: str, now: datetime, received_before: datetime | None = None) -> list[EventRecord]:
    """Deliver kept messages the case is now ready for, oldest first (only those received before an instant)."""
    events: list[EventRecord] = []
    for _ in range(MAX_INBOX_DELIVERIES_PER_RUN):
        pending = uow.inbox.pending_for(run.awaited_messages(), business_key, received_before)
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


def open_case(
    uow: UnitOfWork, runtime: Runtime, *, process_id: str, business_key: str, data: Mapping[str, Any],
    actor: Actor, owners: CaseOwners, now: datetime,
) -> CaseRef:
    """Create and run a new case inside the caller's transaction (the caller commits)."""
    business_key = check_business_key(business_key)
    run = runtime.engine.start(process_id, data, now)
    diagram = run.diagram  # the version it started on, even if a new one is taken up meanwhile
    store_diagram(uow, diagram, now)
    deployment = runtime.deployments.current_for(diagram) if runtime.deployments is not None else None
    instance_id = uow.instances.add(
        process_id=process_id, business_key=business_key, diagram_hash=diagram.content_hash,
        deployment_hash=deployment,
        state="{}", serializer_version=run.serializer_version, status="running", now=now,
        organisation_id=owners.organisation_id, appealed_organisation_id=owners.appealed_organisation_id,
        related_instance_id=owners.related_instance_id,
    )
    stored = StoredInstance(instance_id, process_id, business_key, diagram.content_hash, "running", "{}",
                            run.serializer_version, 0, owners.organisation_id, owners.appealed_organisation_id,
                            owners.related_instance_id, deployment)
    events = [EventRecord(at=now, actor=actor.login, action="case_started", instance_id=instance_id,
                          business_key=business_key,
                          details={"process": process_id, "diagram": diagram.content_hash[:12],
                                   "organisation": owners.organisation_id})]
    events += drain_inbox(uow, run, instance_id, business_key, actor.login, now)
    return save_run(uow, runtime, run, stored, actor=actor, now=now, events=events)


def check_business_key(business_key: str) -> str:
    """A business key as stored: trimmed, 1–120 characters."""
    key = business_key.strip()
    if not key or len(key) > 120:
        raise InvalidInput("a business key (e.g. the application number) must be 1–120 characters")
    return key


def save_run(uow: UnitOfWork, runtime: Runtime, run: ProcessRun, stored: StoredInstance, *, actor: Actor,
             now: datetime, events: list[EventRecord], acting_role: str | None = None) -> CaseRef:
    """Write state, projections, outbox, documents and event log of one use case, all in its transaction.

    ``acting_role`` is the lane of the task the actor completed: documents it issues are signed in that role.
    """
    snapshot = run.snapshot()
    acting_roles = frozenset({acting_role}) if acting_role else process_lanes(run.diagram)
    rules = runtime.access.get(stored.process_id) or ProcessAccess(stored.process_id)
    status = "completed" if snapshot.completed else "running"
    version = uow.instances.save(
        stored.id, expected_version=stored.version, state=run.dump(), status=status,
        serializer_version=run.serializer_version, now=now,
    )
    base = run.baseline
    if base.timers != snapshot.timers:
        uow.timers.replace_for_instance(stored.id, snapshot.timers)
    if base.awaited_messages != snapshot.awaited_messages:
        uow.awaited.replace_for_instance(stored.id, stored.business_key, snapshot.awaited_messages)
    before = frozenset(t.element_id for t in base.open_tasks) or frozenset(base.waiting_elements)
    records = list(events) + _step_events(snapshot, stored.id, stored.business_key, actor.login, now)
    outgoing = list(snapshot.outgoing)
    stage = _stage_change(run, snapshot, before)
    if stage is not None:
        outgoing.append(OutgoingMessage("monitoring.stage_changed", "monitoring", {
            "process": stored.process_id, "business_key": stored.business_key, "status": status, **stage,
        }))
        records.append(EventRecord(at=now, actor=actor.login, action="stage_changed", instance_id=stored.id,
                                   business_key=stored.business_key, paragraph="§8", details=stage))
    queued: list[dict[str, Any]] = []
    for seq, message in enumerate(outgoing):
        records += _dispatch(uow, runtime, stored, message, f"{stored.process_id}/{stored.id}/v{version}/{seq}",
                             actor, now, queued, rules, acting_roles)
    if snapshot.completed and stored.status != "completed":
        records.append(EventRecord(at=now, actor=actor.login, action="case_completed", instance_id=stored.id,
                                   business_key=stored.business_key))
    with uow.batched():  # writes nobody reads back in this step: one round trip on PostgreSQL
        uow.tasks.apply_changes(
            stored.id, stored.process_id, stored.business_key, base.open_tasks, snapshot.open_tasks, now,
            organisation_of=lambda lane: rules.lane_organisation(lane, stored.organisation_id,
                                                                 stored.appealed_organisation_id),
        )
        index_step(uow, stored, run, status=status, stage=stage, data=snapshot.data, now=now)
        uow.outbox.add_many(queued, now)
        uow.events.append(records)
    return CaseRef(stored.id, stored.process_id, stored.business_key, status, version)


def sms_payload(message_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """An SMS's payload with its text written from the templates (kk, ru); nothing is saved if it cannot be."""
    try:
        return with_text(message_name, payload)
    except SmsTemplateError as exc:
        raise InvalidInput(str(exc)) from exc


def _stage_change(run: ProcessRun, snapshot: Snapshot, before: frozenset[str]) -> dict[str, str] | None:
    """§8: the stage is the end the case reached, else what it waits on (open tasks, else events).

    Stages are codes from the fixed list the diagram's elements name; an end without a stage (an
    escalation closed) changes nothing.
    """
    ends = [run.diagram.element(step.element_id) for step in snapshot.steps if step.kind == "endEvent"]
    outcomes = [info.stage for info in ends if info is not None and info.stage]
    if outcomes:
        codes = outcomes[-1:]
    elif snapshot.completed:
        return None
    else:
        codes = _stage_codes(run, {task.element_id for task in snapshot.open_tasks} or set(run.waiting_elements()))
        if not codes or codes == _stage_codes(run, set(before)):
            return None
    return {"stage": "+".join(codes), "stage_name_kk": stage_names(codes, "kk"),
            "stage_name_ru": stage_names(codes, "ru")}


def _stage_codes(run: ProcessRun, element_ids: set[str]) -> list[str]:
    """The distinct stages of these elements, in the order of the fixed list."""
    found = set()
    for element_id in element_ids:
        info = run.diagram.element(element_id)
        found.add(info.stage if info is not None and info.stage else UNMAPPED)
    return [code for code in STAGES if code in found]


def _dispatch(uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, message: OutgoingMessage,
              key: str, actor: Actor, now: datetime, queued: list[dict[str, Any]],
              rules: ProcessAccess, acting_roles: frozenset[str]) -> list[EventRecord]:
    """Send one outgoing message where its name says: outbox (``queued``), document, or another case."""
    case, business_key = stored.id, stored.business_key
    if message.channel:
        queued.append({"channel": message.channel, "message_name": message.name, "idempotency_key": key,
                       "instance_id": case, "business_key": business_key,
                       "payload": sms_payload(message.name, message.payload) if message.channel == "sms"
                       else message.payload})
        return [EventRecord(at=now, actor=actor.login, action="outbox_queued", instance_id=case,
                            business_key=business_key, details={"message": message.name, "channel": message.channel})]
    kind = document_kind(message.name)
    if kind is not None:
        return _issue(uow, runtime, stored, kind, message.payload, actor, now, rules, acting_roles)
    return _send_to_other_case(uow, runtime, stored, message, key, actor, now)


def _issue(uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, kind: str, payload: Mapping[str, Any],
           actor: Actor, now: datetime, rules: ProcessAccess, acting_roles: frozenset[str]) -> list[EventRecord]:
    """Issue a document on the letterhead of the organisation that issues it, signed by who acted."""
    if runtime.issue_document is None:
        raise InvalidInput(f"the diagram issues a '{kind}' document but no document service is configured")
    issuer_id = stored.appealed_organisation_id if kind in rules.appealed_documents else stored.organisation_id
    letterhead = uow.organisations.get(issuer_id) if issuer_id is not None else None
    if letterhead is None:
        raise InvalidInput(f"case {stored.business_key} belongs to no organisation: its '{kind}' cannot be issued")
    signatory = signatory_for(actor, letterhead, acting_roles)
    try:
        ids = runtime.issue_document(uow, instance_id=stored.id, business_key=stored.business_key, kind=kind,
                                     payload=payload, letterhead=letterhead, signatory=signatory, now=now)
    except ValueError as exc:  # a payload the template cannot be filled from: nothing is saved
        raise InvalidInput(f"document '{kind}' of case {stored.business_key} could not be issued: {exc}") from exc
    details: dict[str, Any] = {"document": kind, "ids": list(ids), "organisation": letterhead.id}
    if signatory is not None:
        details["signed_by"] = actor.login
    return [EventRecord(at=now, actor=actor.login, action="document_issued", instance_id=stored.id,
                        business_key=stored.business_key, details=details)]


def signatory_for(actor: Actor, organisation: Organisation,
                  acting_roles: frozenset[str] = frozenset()) -> Signatory | None:
    """The acting official as printed on a document of ``organisation``; None if no member of it acted.

    Someone holding several roles signs in the one they acted in (``acting_roles``: the completed
    task's lane, else the lanes of the case's process), not in whichever of their roles sorts first.
    """
    membership = actor.membership(organisation.id) if actor.is_person else None
    if membership is None:
        return None
    if membership.position_kk or membership.position_ru:
        return Signatory(actor.full_name, membership.position_kk or membership.position_ru,
                         membership.position_ru or membership.position_kk)
    if "head" in membership.roles:
        return Signatory(actor.full_name, organisation.head_position_kk, organisation.head_position_ru)
    named = known_roles()
    role = next((r for r in sorted(membership.roles & acting_roles) if r in named), None) or next(
        (r for r in sorted(membership.roles) if r in named), None)
    if role is None:
        return Signatory(actor.full_name, "", "")
    return Signatory(actor.full_name, signature_title(role, "kk"), signature_title(role, "ru"))


def _send_to_other_case(uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, message: OutgoingMessage,
                        key: str, actor: Actor, now: datetime) -> list[EventRecord]:
    """A message for another diagram: start the process it starts, or keep it for the case it awaits."""
    target_key = str(message.payload.get("application_number") or stored.business_key)
    starter = runtime.engine.library.process_starting_with(message.name)
    record = EventRecord(at=now, actor=actor.login, action="message_sent", instance_id=stored.id,
                         business_key=stored.business_key,
                         details={"message": message.name, "to_business_key": target_key})
    uow.inbox.add(message.name, target_key, dict(message.payload), key, now)
    if starter is not None:
        runtime.check_form(starter.process_id, message.name, message.payload)
        if stored.organisation_id is None:
            raise InvalidInput(f"case {stored.business_key} belongs to no organisation: it cannot start another case")
        ref = open_case(uow, runtime, process_id=starter.process_id, business_key=target_key, data={},
                        actor=actor, owners=CaseOwners(stored.organisation_id), now=now)
        return [record, EventRecord(at=now, actor=actor.login, action="case_started_by_message",
                                    instance_id=stored.id, business_key=stored.business_key,
                                    details={"process": starter.process_id, "instance_id": ref.instance_id})]
    return [record]
