"""Moving running cases to another deployed version: one case, or every case of a version, dry run first.

Builds on the repairs (``repair.plan_migration`` / ``repair.migrate_case``, SpiffWorkflow's
``diff_workflow`` and ``migrate_workflow``): a case can move when every element it waits on exists in
the target's diagram. A version that changes only forms or declarations moves a case by pointing it at
the new version. Every move is written to the case's history with the person and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from service.domain.errors import DomainError, InvalidInput, NotFound, NotPermitted
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.persistence.deployment_repository import StoredDeployment
from service.persistence.uow import UnitOfWork

from ._running import load_case
from .deployments import find_version
from .repair import BulkReport, RepairOutcome, may_repair, migrate_case, plan_migration, repair_each
from .runtime import Runtime

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class MovePlan:
    """A dry run for one case: whether it can move to the target version, and why not."""

    instance_id: int
    business_key: str
    from_version: str | None
    to_version: str
    possible: bool
    #: Why it cannot move, or what moving changes (the elements it waits on).
    reason: str
    waiting_on: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def line(self) -> str:
        """One line for the command line."""
        start = (self.from_version or "none")[:12]
        verdict = "can move" if self.possible else "cannot move"
        return (f"case {self.instance_id} ({self.business_key}): {start} -> {self.to_version[:12]}: {verdict}"
                f"{': ' + self.reason if self.reason else ''}")


def version_of_hash(uow: UnitOfWork, version: str) -> StoredDeployment:
    """The version (of any process) a hash or its first 8+ characters names."""
    wanted = version.strip().lower()
    found = uow.deployments.matching(wanted) if len(wanted) >= 8 else []
    if len(found) != 1:
        raise NotFound(f"no single deployed version {wanted} (give at least 8 characters of its hash)")
    return found[0]


def cases_of_version(uow: UnitOfWork, version: str, *, actor: Actor) -> tuple[StoredDeployment, list[int]]:
    """A version and the ids of its running cases (for an analyst: moving every case of a version is theirs)."""
    if not actor.is_person or not actor.has_role("analyst"):
        raise NotPermitted("the cases of a version are moved by an analyst")
    deployment = version_of_hash(uow, version)
    return deployment, uow.deployments.cases_on(deployment.content_hash)


def plan_move(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_id: int, to_version: str) -> MovePlan:
    """Whether one case can move to a version (nothing is saved); refusals are reported, not raised."""
    stored = uow.instances.get(instance_id)
    if stored is None:
        raise NotFound(f"case {instance_id} does not exist")
    target = find_version(uow, stored.process_id, to_version)
    base = (stored.id, stored.business_key, stored.deployment_hash, target.content_hash)
    if target.content_hash == stored.deployment_hash:
        return MovePlan(*base, possible=False, reason="it already runs on this version")
    if target.diagram_hash == stored.diagram_hash:
        try:
            _check_movable(uow, actor, stored.id)
        except DomainError as exc:
            return MovePlan(*base, possible=False, reason=str(exc))
        return MovePlan(*base, possible=True, reason="same diagram: only its forms and declarations change")
    try:
        report = plan_migration(uow, runtime, actor=actor, instance_id=instance_id, target_version=target.diagram_hash)
    except DomainError as exc:
        return MovePlan(*base, possible=False, reason=str(exc))
    if not report.possible:
        return MovePlan(*base, possible=False, waiting_on=report.waiting_on, missing=report.missing,
                        reason="the new version has no " + ", ".join(report.missing) + ", where the case waits")
    return MovePlan(*base, possible=True, waiting_on=report.waiting_on,
                    reason="waits on " + (", ".join(report.waiting_on) or "nothing"))


def _check_movable(uow: UnitOfWork, actor: Actor, instance_id: int) -> None:
    stored = load_case(uow, instance_id)
    if not may_repair(actor, stored):
        raise NotPermitted("cases are moved by an analyst or an administrator of their organisation")
    if stored.status != "running":
        raise InvalidInput(f"case {stored.business_key} is {stored.status}: only a running case can move")


def plan_moves(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, instance_ids: list[int],
               to_version: str) -> list[MovePlan]:
    """The dry run for many cases, one plan each."""
    return [plan_move(uow, runtime, actor=actor, instance_id=n, to_version=to_version) for n in instance_ids]


def move_case(uows: UowFactory, runtime: Runtime, *, actor: Actor, instance_id: int, to_version: str,
              reason: str, now: datetime) -> RepairOutcome:
    """Move one running case to a version (its diagram and forms); logged in its history with the person."""
    with uows() as uow:
        stored = load_case(uow, instance_id)
        target = find_version(uow, stored.process_id, to_version)
        if target.content_hash == stored.deployment_hash:
            raise InvalidInput(f"case {stored.business_key} already runs on version {target.content_hash[:12]}")
        if target.diagram_hash == stored.diagram_hash:
            return _point_at(uow, actor, stored.id, target, reason, now)
    return migrate_case(uows, runtime, actor=actor, instance_id=instance_id, target_version=target.diagram_hash,
                        reason=reason, now=now, deployment_hash=target.content_hash)


def _point_at(uow: UnitOfWork, actor: Actor, instance_id: int, target: StoredDeployment, reason: str,
              now: datetime) -> RepairOutcome:
    """The same diagram, other forms or declarations: the case runs on the new version from now on."""
    why = " ".join(reason.split())
    if not why:
        raise InvalidInput("say why (a reason is required and goes to the case's history)")
    _check_movable(uow, actor, instance_id)
    stored = load_case(uow, instance_id)
    uow.deployments.move_case(stored.id, target.content_hash, stored.diagram_hash)
    uow.events.append([EventRecord(at=now, actor=actor.login, action="case_migrated", instance_id=stored.id,
                                   business_key=stored.business_key, details={
                                       "reason": why, "from_deployment": stored.deployment_hash,
                                       "to_deployment": target.content_hash, "from_version": stored.diagram_hash,
                                       "to_version": stored.diagram_hash})])
    uow.commit()
    return RepairOutcome(stored.id, stored.business_key, "migrated", stored.status,
                         f"{(stored.deployment_hash or 'none')[:12]} -> {target.content_hash[:12]} (forms only)")


def move_cases(uows: UowFactory, runtime: Runtime, *, actor: Actor, instance_ids: list[int], to_version: str,
               reason: str, now: datetime) -> BulkReport:
    """Move many cases; one refused or failing does not stop the others."""
    return repair_each(instance_ids, lambda n: move_case(uows, runtime, actor=actor, instance_id=n,
                                                         to_version=to_version, reason=reason, now=now))
