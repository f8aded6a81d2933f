"""The operations page: incidents, outbox messages failing too long, inbox messages no case has taken.

Only administrators and analysts read it. An analyst (or a national administrator) sees the whole
installation; an organisation's administrator sees the incidents and outbox messages of the cases
of the organisations they administer, and no inbox messages (until a case takes one, it belongs to
no organisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from service.domain.errors import NotPermitted
from service.domain.incidents import Incident
from service.domain.model import TaskSummary
from service.domain.operations import StaleInboxMessage, StaleOutboxMessage
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from .cases import open_task

#: Roles that may read the operations page and every incident's full error text.
OPERATIONS_ROLES = frozenset({"administrator", "analyst"})
IncidentStatus = Literal["open", "resolved", "all"]
STATUSES: tuple[IncidentStatus, ...] = ("open", "resolved", "all")
LIMIT = 200


@dataclass(frozen=True)
class IncidentFilter:
    """What the incident list is narrowed to."""

    status: str = "open"
    process_id: str | None = None
    element_id: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class OperationsOverview:
    """Everything the operations page shows."""

    incidents: list[Incident]
    stale_outbox: list[StaleOutboxMessage]
    stale_inbox: list[StaleInboxMessage]
    #: The organisations seen (None: the whole installation).
    organisation_ids: frozenset[int] | None


def may_operate(actor: Actor) -> bool:
    """Whether this person may read the operations page and full incident errors."""
    return actor.is_person and (bool(actor.roles & OPERATIONS_ROLES) or actor.national_admin)


def operations_scope(actor: Actor) -> frozenset[int] | None:
    """The organisations whose cases this person oversees (None: all); NotPermitted for anyone else."""
    if not may_operate(actor):
        raise NotPermitted("the operations page is for administrators and analysts")
    if actor.national_admin or "analyst" in actor.roles:
        return None
    return frozenset(actor.organisations_with("administrator"))


def listed_incidents(uow: UnitOfWork, *, actor: Actor, incidents: IncidentFilter) -> list[Incident]:
    """The incidents the operations page lists for this filter, within this person's organisations."""
    scope = operations_scope(actor)
    status = cast(IncidentStatus, incidents.status if incidents.status in STATUSES else "open")
    found = uow.incidents.listing(status=status, process_id=incidents.process_id or None,
                                  element_id=incidents.element_id or None, kind=incidents.kind or None, limit=LIMIT)
    if scope is not None:
        owners = uow.operations.owners({i.instance_id for i in found})
        found = [i for i in found if owners.get(i.instance_id) in scope]
    return found


def operations_overview(uow: UnitOfWork, *, actor: Actor, now: datetime, outbox_stale: timedelta,
                        inbox_stale: timedelta, incidents: IncidentFilter = IncidentFilter()) -> OperationsOverview:
    """Incidents by the filter, outbox messages undelivered longer than ``outbox_stale``, inbox ones not taken."""
    found = listed_incidents(uow, actor=actor, incidents=incidents)
    scope = operations_scope(actor)
    outbox = uow.operations.stale_outbox(now - outbox_stale, organisation_ids=scope, limit=LIMIT)
    inbox = uow.operations.stale_inbox(now - inbox_stale, limit=LIMIT) if scope is None else []
    return OperationsOverview(incidents=found, stale_outbox=outbox, stale_inbox=inbox, organisation_ids=scope)


def open_incident_of(uow: UnitOfWork, instance_id: int) -> Incident | None:
    """The case's open incident, if any (callers have already checked the case may be read)."""
    return uow.incidents.open_for(instance_id)


def task_incident(uow: UnitOfWork, *, actor: Actor, task_id: str) -> tuple[TaskSummary, Incident | None]:
    """The task this person may work on and its case's open incident (the case is not loaded: it may not load)."""
    task = open_task(uow, actor, task_id)
    return task, uow.incidents.open_for(task.instance_id)


def incident_summary(incident: Incident, limit: int = 160) -> str:
    """The error's last line, shortened: what staff who are not administrators or analysts see."""
    lines = [line.strip() for line in incident.error.splitlines() if line.strip()]
    text = lines[-1] if lines else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
