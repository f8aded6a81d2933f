"""Repairing stuck cases, audited: retry now, correct data, move to another diagram version, cancel.

Only an administrator of the organisation that owns the case, or an analyst (diagrams are shared
by every organisation), repairs a case. Every repair is written to the event log with who did it
and why; a correction keeps the old and the new values. A retry that fails is recorded as a try
on the case's incident (when incidents are kept), and the repairs already saved stay saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
    Unavailable,
)
from service.domain.model import EventRecord, OpenTask
from service.domain.staff import Actor
from service.engine.library import Diagram
from service.engine.repair import VersionDiff, correct_data, diff_versions, migrate_run, waiting_on
from service.persistence.case_index import case_index_of
from service.persistence.repositories import StoredInstance
from service.persistence.uow import UnitOfWork

from ._running import drain_inbox, load_case, resume, save_run, store_diagram
from .incidents import Failure, describe_failure, is_shutdown, record_incident
from .runtime import Runtime

#: Roles that may repair a case (administrators of its organisation; analysts of any).
REPAIR_ROLES = frozenset({"administrator", "analyst"})
#: A reason is required for every change a repair makes; this long at most.
MAX_REASON = 500
#: The shortest part of a version's hash that may name it.
MIN_VERSION_PREFIX = 8
_HEX = re.compile(r"^[0-9a-f]+$")

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class RepairOutcome:
    """What one repair did to one case."""

    instance_id: int
    business_key: str
    #: "moved" (it ran on), "waiting" (nothing was due), "corrected", "migrated", "cancelled", "failed".
    outcome: str
    #: The case's status afterwards: running, completed or cancelled.
    status: str
    detail: str = ""


@dataclass(frozen=True)
class MigrationReport:
    """A dry run of moving a case to another version: what differs, and whether it can move."""

    instance_id: int
    business_key: str
    process_id: str
    from_version: str
    to_version: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: Mapping[str, tuple[str, ...]]
    waiting_on: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def possible(self) -> bool:
        """Whether every element the case waits on exists in the target version."""
        return not self.missing

    def lines(self) -> list[str]:
        """The report as text, one fact a line (for the CLI and the log)."""
        changed = [f"{element} ({', '.join(attrs)})" for element, attrs in self.changed.items()]
        return [
            f"case {self.instance_id} ({self.business_key}) of {self.process_id}: "
            f"{self.from_version[:12]} -> {self.to_version[:12]}",
            f"  added:   {', '.join(self.added) or '-'}",
            f"  removed: {', '.join(self.removed) or '-'}",
            f"  changed: {', '.join(changed) or '-'}",
            f"  waits on: {', '.join(self.waiting_on) or '-'}",
            "  can move: yes" if self.possible else f"  can move: no, the target lacks {', '.join(self.missing)}",
        ]


# --- who may repair ------------------------------------------------------------------------------------

def may_repair(actor: Actor, case: StoredInstance) -> bool:
    """Whether this person repairs this case: an analyst, or an administrator of an organisation it belongs to."""
    if not actor.is_person:
        return False
    if "analyst" in actor.roles:
        return True
    return any("administrator" in actor.roles_in(org) for org in (case.organisation_id, case.appealed_organisation_id))


def _check_may_repair(actor: Actor, case: StoredInstance) -> None:
    if not may_repair(actor, case):
        raise NotPermitted("cases are repaired by an administrator of their organisation or by an analyst")


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput("say why (a reason is required and goes to the case's history)")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason is too long (at most {MAX_REASON} characters)")
    return text


def _running(case: StoredInstance) -> None:
    if case.status != "running":
        raise InvalidInput(f"case {case.business_key} is {case.status}: only a running case can be repaired")


def _load(uow: UnitOfWork, actor: Actor, instance_id: int) -> StoredInstance:
    stored = load_case(uow, instance_id)
    _check_may_repair(actor, stored)
    _running(stored)
    return stored


def _event(actor: Actor, case: StoredInstance, action: str, now: datetime, **details: Any) -> EventRecord:
    return EventRecord(at=now, actor=actor.login, action=action, instance_id=case.id,
                       business_key=case.business_key, details=details)


# --- retry ---------------------------------------------------------------------------------------------

def retry_case(uows: UowFactory, runtime: Runtime, *, actor: Actor, instance_id: int, now: datetime,
               note: str = "") -> RepairOutcome:
    """Run the case now: its due timers (whatever their retry time), kept messages, pending engine steps.

    On success the case's open incident is resolved ("retried by <login>"); on failure nothing of
    the try is saved, the try is recorded on the incident and the outcome is ``failed`` with the error.
    """
    with uows() as uow:
        stored = _load(uow, actor, instance_id)
        try:
            outcome = _retry_in(uow, runtime, stored, actor, now, note)
        except (NotPermitted, ConcurrencyConflict, Unavailable):
            raise
        except BaseException as exc:  # noqa: BLE001 - whatever the diagram raises is this case's failure
            if is_shutdown(exc):
                raise
            failure = describe_failure(exc, runtime, stored.diagram_hash)
        else:
            _resolve_incident(uow, stored, actor, now, f"retried by {actor.login}")
            uow.commit()
            return outcome
    _record_failure(uows, stored, actor, now, failure)
    return RepairOutcome(stored.id, stored.business_key, "failed", stored.status, failure.error)


def _retry_in(uow: UnitOfWork, runtime: Runtime, stored: StoredInstance, actor: Actor, now: datetime,
              note: str) -> RepairOutcome:
    run = resume(uow, runtime, stored)
    before = waiting_on(run)
    due = sorted({t.element_id for t in run.baseline.timers if t.due_at <= now})
    if due:
        run.fire_timers(now)
    else:
        run.run_engine(now)  # steps left ready by a correction or a migration
    events = drain_inbox(uow, run, stored.id, stored.business_key, actor.login, now)
    moved = bool(due or events) or waiting_on(run) != before
    details: dict[str, Any] = {"outcome": "moved" if moved else "waiting", "timers": due}
    if note:
        details["note"] = note
    retried = _event(actor, stored, "case_retried", now, **details)
    if not moved:
        uow.events.append([retried])
        return RepairOutcome(stored.id, stored.business_key, "waiting", stored.status, "nothing was due")
    fired = [EventRecord(at=now, actor=actor.login, action="timer_fired", instance_id=stored.id,
                         business_key=stored.business_key, element_id=element_id) for element_id in due]
    ref = save_run(uow, runtime, run, stored, actor=actor, now=now, events=[retried, *fired, *events])
    return RepairOutcome(stored.id, stored.business_key, "moved", ref.status)


def _resolve_incident(uow: UnitOfWork, case: StoredInstance, actor: Actor, now: datetime, resolution: str) -> None:
    """The case's open incident, if any, is resolved by this repair (inside the repair's transaction)."""
    incident = uow.incidents.open_for(case.id)
    if incident is None:
        return
    uow.incidents.resolve(incident.id, by=actor.login, resolution=resolution, now=now)
    uow.events.append([_event(actor, case, "incident_resolved", now, incident=incident.id, resolution=resolution,
                              tries=incident.tries)])


def _record_failure(uows: UowFactory, stored: StoredInstance, actor: Actor, now: datetime, failure: Failure) -> None:
    """The try failed and nothing of it was saved: a try on the case's incident, and a line in its history."""
    record_incident(uows, instance_id=stored.id, kind="repair", failure=failure, now=now, actor=actor.login)
    with uows() as uow:
        uow.events.append([_event(actor, stored, "case_retry_failed", now, error=failure.error[:500])])
        uow.commit()


# --- correct data --------------------------------------------------------------------------------------

def correct_case_data(uows: UowFactory, runtime: Runtime, *, actor: Actor, instance_id: int,
                      changes: Mapping[str, Any], reason: str, now: datetime) -> RepairOutcome:
    """Set variables where the case stands (old and new values and the reason logged), then retry it."""
    why = _reason(reason)
    with uows() as uow:
        stored = _load(uow, actor, instance_id)
        run = resume(uow, runtime, stored)
        values = correct_data(run, changes)
        event = _event(actor, stored, "case_data_corrected", now, reason=why, changes=values)
        ref = save_run(uow, runtime, run, stored, actor=actor, now=now, events=[event])
        uow.commit()
    retried = retry_case(uows, runtime, actor=actor, instance_id=ref.instance_id, now=now, note="after correction")
    detail = ", ".join(sorted(values))
    if retried.outcome == "failed":
        return RepairOutcome(ref.instance_id, ref.business_key, "failed", retried.status,
                             f"corrected {detail}; the retry failed: {retried.detail}")
    return RepairOutcome(ref.instance_id, ref.business_key, "corrected", retried.status,
                         f"corrected {detail}; {retried.outcome}")


# --- migrate -------------------------------------------------------------------------------------------

def resolve_version(uow: UnitOfWork, runtime: Runtime, process_id: str, version: str) -> Diagram:
    """The diagram version ``version`` names: ``current``, or a content hash (or its first 8+ characters)."""
    library = runtime.engine.library
    if version == "current":
        return library.current(process_id)
    wanted = version.strip().lower()
    if len(wanted) < MIN_VERSION_PREFIX or not _HEX.match(wanted):
        raise InvalidInput(f"name a version by 'current' or its hash (at least {MIN_VERSION_PREFIX} hex characters)")
    candidates = {digest: file for digest, file, _at in uow.diagrams.versions_of(process_id)}
    current = library.current(process_id)
    candidates.setdefault(current.content_hash, current.file)
    found = [digest for digest in candidates if digest.startswith(wanted)]
    if not found:
        raise NotFound(f"process '{process_id}' has no version {wanted}")
    if len(found) > 1:
        raise InvalidInput(f"version {wanted} is ambiguous: give more of its hash")
    digest = found[0]
    if library.has_version(digest):
        return library.version(digest)
    source = uow.diagrams.source(digest)
    if source is None:
        raise NotFound(f"diagram version {digest[:12]} is not stored")
    return library.version(digest, source=source[0], file=source[1])


@dataclass(frozen=True)
class VersionChoice:
    """A version of the case's diagram it could be moved to."""

    content_hash: str
    file: str
    current: bool


def migration_targets(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int) -> list[VersionChoice]:
    """The other versions of the case's diagram (the current one first), for a repair form."""
    stored = uow.instances.get(instance_id)
    if stored is None:
        raise NotFound(f"case {instance_id} does not exist")
    _check_may_repair(actor, stored)
    current = runtime.engine.library.current(stored.process_id)
    choices = [VersionChoice(current.content_hash, current.file, True)]
    choices += [VersionChoice(digest, file, False) for digest, file, _at in uow.diagrams.versions_of(stored.process_id)
                if digest != current.content_hash]
    return [choice for choice in choices if choice.content_hash != stored.diagram_hash]


def _report(stored: StoredInstance, target: Diagram, diff: VersionDiff) -> MigrationReport:
    return MigrationReport(
        instance_id=stored.id, business_key=stored.business_key, process_id=stored.process_id,
        from_version=stored.diagram_hash, to_version=target.content_hash, added=diff.added, removed=diff.removed,
        changed=diff.changed, waiting_on=diff.waiting_on, missing=diff.missing,
    )


def plan_migration(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int,
                   target_version: str) -> MigrationReport:
    """A dry run: how the case's version and the target differ, and whether the case can move (nothing saved)."""
    stored = _load(uow, actor, instance_id)
    target = resolve_version(uow, runtime, stored.process_id, target_version)
    run = resume(uow, runtime, stored)
    return _report(stored, target, diff_versions(run, target))


def migrate_case(uows: UowFactory, runtime: Runtime, *, actor: Actor, instance_id: int, target_version: str,
                 reason: str, now: datetime, deployment_hash: str | None = None) -> RepairOutcome:
    """Move the case to another version of its diagram, then retry it; refused if it waits on a missing element.

    ``deployment_hash``: the deployed version (diagram and forms) the case runs on afterwards, if one is named.
    """
    why = _reason(reason)
    with uows() as uow:
        stored = _load(uow, actor, instance_id)
        target = resolve_version(uow, runtime, stored.process_id, target_version)
        if target.process_id != stored.process_id:
            raise InvalidInput(f"version {target.content_hash[:12]} is a version of another process")
        if target.content_hash == stored.diagram_hash:
            raise InvalidInput(f"case {stored.business_key} already runs on version {target.content_hash[:12]}")
        run = resume(uow, runtime, stored)
        diff = migrate_run(run, target)
        store_diagram(uow, target, now)
        uow.instances.move_to_version(stored.id, target.content_hash)
        deployed: dict[str, Any] = {}
        if deployment_hash is None and stored.deployment_hash is not None:  # the deployed version with that diagram
            deployment_hash = uow.deployments.version_with_diagram(stored.process_id, target.content_hash)
        if deployment_hash is not None:
            uow.deployments.move_case(stored.id, deployment_hash, target.content_hash)
            deployed = {"from_deployment": stored.deployment_hash, "to_deployment": deployment_hash}
        event = _event(actor, stored, "case_migrated", now, reason=why, from_version=stored.diagram_hash,
                       to_version=target.content_hash, changed=sorted(diff.changed), waiting_on=list(diff.waiting_on),
                       **deployed)
        ref = save_run(uow, runtime, run, stored, actor=actor, now=now, events=[event])
        uow.commit()
    retried = retry_case(uows, runtime, actor=actor, instance_id=ref.instance_id, now=now, note="after migration")
    detail = f"{stored.diagram_hash[:12]} -> {target.content_hash[:12]}"
    if retried.outcome == "failed":
        return RepairOutcome(ref.instance_id, ref.business_key, "failed", retried.status,
                             f"migrated {detail}; the retry failed: {retried.detail}")
    return RepairOutcome(ref.instance_id, ref.business_key, "migrated", retried.status,
                         f"migrated {detail}; {retried.outcome}")


# --- cancel --------------------------------------------------------------------------------------------

def cancel_case(uow: UnitOfWork, *, actor: Actor, instance_id: int, reason: str, now: datetime) -> RepairOutcome:
    """End the case as cancelled: its open tasks, timers and awaited messages go; the outbox is left alone."""
    why = _reason(reason)
    stored = _load(uow, actor, instance_id)
    open_tasks = [OpenTask(t.task_id, t.element_id, t.title, t.lane, t.due_at)
                  for t in uow.tasks.for_instance(stored.id)]
    uow.tasks.apply_changes(stored.id, stored.process_id, stored.business_key, open_tasks, [], now)
    uow.timers.replace_for_instance(stored.id, [])
    uow.awaited.replace_for_instance(stored.id, stored.business_key, [])
    uow.instances.save(stored.id, expected_version=stored.version, state=stored.state, status="cancelled",
                       serializer_version=stored.serializer_version, now=now)
    case_index_of(uow).change(stored.id, status="cancelled")
    _resolve_incident(uow, stored, actor, now, f"cancelled by {actor.login}: {why}")
    uow.events.append([_event(actor, stored, "case_cancelled", now, reason=why, by=actor.login,
                              tasks=[t.element_id for t in open_tasks])])
    uow.commit()
    return RepairOutcome(stored.id, stored.business_key, "cancelled", "cancelled", why)


# --- many at once --------------------------------------------------------------------------------------

def cases_stuck_at(uow: UnitOfWork, process_id: str, version: str, element_id: str) -> list[int]:
    """Running cases of a process on a version (hash or its start) standing at ``element_id``.

    A case stands at an element when it has an open task or a timer there, or its open incident names it.
    """
    if len(version) < MIN_VERSION_PREFIX or not _HEX.match(version.lower()):
        raise InvalidInput(f"name the version by its hash (at least {MIN_VERSION_PREFIX} hex characters)")
    found = []
    for instance_id in uow.instances.ids_on_version(process_id, version.lower()):
        elements = {t.element_id for t in uow.tasks.for_instance(instance_id)}
        elements |= {t.element_id for t in uow.timers.for_instance(instance_id)}
        incident = uow.incidents.open_for(instance_id)
        if incident is not None and incident.element_id:
            elements.add(incident.element_id)
        if element_id in elements:
            found.append(instance_id)
    return found


@dataclass
class BulkReport:
    """What a repair applied to many cases did to each (one failing does not stop the others)."""

    outcomes: list[RepairOutcome] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)


def repair_each(instance_ids: list[int], repair: Callable[[int], RepairOutcome]) -> BulkReport:
    """Apply ``repair`` to every case; a refusal or failure is noted against its case and the next goes on."""
    report = BulkReport()
    for instance_id in instance_ids:
        try:
            outcome = repair(instance_id)
        except DomainError as exc:
            report.errors[instance_id] = str(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - an unexpected failure of one case is reported with the rest
            report.errors[instance_id] = f"{type(exc).__name__}: {exc}"
            continue
        if outcome.outcome == "failed":
            report.errors[instance_id] = outcome.detail
        report.outcomes.append(outcome)
    return report


def repairer(uow: UnitOfWork, login: str) -> Actor:
    """The active member of staff acting at the command line, who must hold a repair role somewhere."""
    found = uow.staff.by_login(login.strip().lower())
    if found is None or not found[4]:
        raise NotFound(f"there is no active member of staff '{login}'")
    member = found[0]
    if not member.roles & REPAIR_ROLES:
        raise NotPermitted(f"{member.login} is neither an administrator nor an analyst: cases are not theirs to repair")
    return member
