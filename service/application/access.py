"""Need to know: the one place that decides who may see or do what with a case.

Every use case that reads or changes a case asks here. A case of an organisation the person
does not belong to is reported as not found (its existence is not disclosed); a task in one's
own organisation but of another role is refused as not permitted.
"""

from __future__ import annotations

from service.domain.errors import NotFound, NotPermitted
from service.domain.model import TaskSummary
from service.domain.staff import LEGAL_ROLE, Actor
from service.persistence.repositories import StoredInstance, TaskScope
from service.persistence.uow import UnitOfWork

from .process_access import ProcessAccess, process_lanes
from .runtime import Runtime


def declaration(runtime: Runtime, process_id: str) -> ProcessAccess:
    """The process's need-to-know declaration (defaults when it has none)."""
    return runtime.access.get(process_id) or ProcessAccess(process_id)


def task_scope(runtime: Runtime, actor: Actor) -> TaskScope | None:
    """The (organisation, lanes) pairs whose open tasks this person sees (None: the service itself sees all)."""
    if not actor.is_person:
        return None
    lanes = frozenset().union(*(process_lanes(d) for d in runtime.engine.library.diagrams()))
    return [(m.organisation_id, m.roles & lanes) for m in actor.memberships if m.roles & lanes]


def check_task(actor: Actor, task: TaskSummary) -> None:
    """Allow a person to work on ``task``: NotFound outside their organisations, NotPermitted for another role."""
    if not actor.is_person:
        raise NotPermitted("only a member of staff works on tasks")
    if task.organisation_id not in actor.organisation_ids:
        raise NotFound(f"there is no open task {task.task_id}")
    if not actor.acts_in(task.organisation_id, task.lane):
        raise NotPermitted(f"task '{task.title}' belongs to the role '{task.lane}'")


def may_read_case(uow: UnitOfWork, runtime: Runtime, actor: Actor, case: StoredInstance) -> bool:
    """Whether this person may see the case at all."""
    if not actor.is_person:  # the service itself, or a system the API let in by its scope
        bound = actor.organisation_ids  # a client bound to one organisation sees only its cases
        return not bound or bool(bound & {case.organisation_id, case.appealed_organisation_id})
    lanes = next((process_lanes(d) for d in runtime.engine.library.diagrams() if d.process_id == case.process_id),
                 frozenset())
    if actor.roles_in(case.organisation_id) & lanes:
        return True
    rules = declaration(runtime, case.process_id)
    appealed = case.appealed_organisation_id
    if appealed is not None and actor.roles_in(appealed) & (rules.appealed_lanes | rules.appealed_readers):
        return True
    if any(
        actor.roles_in(complaint.organisation_id) & declaration(runtime, complaint.process_id).related_case_roles
        for complaint in uow.instances.complaints_about(case.id)
    ):
        return True
    return _repairs(actor, case) and bool(uow.incidents.for_instance(case.id))


def _repairs(actor: Actor, case: StoredInstance) -> bool:
    """Operations' need to know: an analyst, or an administrator of the case's organisation, sees a case
    that has had an incident (to repair it); other cases stay out of their sight."""
    if "analyst" in actor.roles:
        return True
    return any("administrator" in actor.roles_in(org) for org in (case.organisation_id, case.appealed_organisation_id))


def readable_case(uow: UnitOfWork, runtime: Runtime, actor: Actor, instance_id: int,
                  lock: bool = False) -> StoredInstance:
    """The case, if this person may see it; otherwise NotFound, as if it did not exist."""
    case = uow.instances.get(instance_id, lock=lock)
    if case is None or not may_read_case(uow, runtime, actor, case):
        raise NotFound(f"case {instance_id} does not exist")
    return case


def may_read_medical(runtime: Runtime, actor: Actor, case: StoredInstance) -> bool:
    """Whether this person's role needs the case's medical data (the VKK conclusion)."""
    if actor.kind == "system":
        return True
    return bool(actor.roles_in(case.organisation_id) & declaration(runtime, case.process_id).medical_roles)


def check_legal_reader(actor: Actor) -> None:
    """Allow only a member of the legal team to read the document of the Rules; NotPermitted otherwise."""
    if not actor.is_person or not actor.has_role(LEGAL_ROLE):
        raise NotPermitted(f"the document of the Rules is for the role '{LEGAL_ROLE}'")
