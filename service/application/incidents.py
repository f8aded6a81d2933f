"""Incidents: park a case that failed while running, retry it with backoff, and list what is parked.

A failure is recorded in its own transaction, after the case's own work was rolled back, so the
incident survives whatever made the case fail (a bad value, a refused statement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Literal

from service.domain.errors import CaseHasIncident, DiagramError, DomainError, NotPermitted, ScriptError
from service.domain.incidents import RESOLVED_ON_RETRY, Incident
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

from .runtime import Runtime

#: Roles that may read the incident list (service-wide; national administrators too).
INCIDENT_READER_ROLES = ("administrator", "analyst")

#: How long a parked case waits before its first retry; each further failure doubles the wait.
FIRST_INCIDENT_RETRY = timedelta(minutes=5)
#: The longest wait between two retries of a parked case (so a repaired cause is noticed within it).
MAX_INCIDENT_RETRY = timedelta(hours=4)


@dataclass(frozen=True)
class Failure:
    """What is known of one failure: a readable line, and the element it happened at if known."""

    error: str
    element_id: str | None = None
    element_name: str | None = None


def incident_retry_delay(tries: int, first: timedelta = FIRST_INCIDENT_RETRY) -> timedelta:
    """The wait after the ``tries``-th failure in a row: ``first``, doubling, at most :data:`MAX_INCIDENT_RETRY`."""
    return min(first * (2 ** min(max(0, tries - 1), 20)), max(first, MAX_INCIDENT_RETRY))


def is_shutdown(exc: BaseException, *, signals_handled: bool = False) -> bool:
    """Whether ``exc`` stops the process itself rather than one case (then it is never contained).

    ``signals_handled``: the caller (the worker) turns SIGTERM/SIGINT into a stop flag, so a
    ``KeyboardInterrupt`` cannot be a real Ctrl-C and is contained like anything else a case raises.
    Elsewhere (a one-shot command) it is the operator's Ctrl-C and stops the command.
    """
    if isinstance(exc, GeneratorExit):
        return True
    return isinstance(exc, KeyboardInterrupt) and not signals_handled


def describe_failure(exc: BaseException, runtime: Runtime | None = None,
                     diagram_hash: str | None = None) -> Failure:
    """The failure as operators read it: file:line, element id and name, the error's type and message."""
    element_id = getattr(exc, "element_id", None) or _element_in_traceback(exc.__traceback__)
    element_name = getattr(exc, "element_name", None)
    file = getattr(exc, "file", None)
    line = getattr(exc, "line", None)
    if element_id and runtime is not None and diagram_hash and runtime.engine.library.has_version(diagram_hash):
        diagram = runtime.engine.library.version(diagram_hash)
        info = diagram.element(element_id)
        file = file or diagram.file
        if info is not None:
            element_name = element_name or info.name or None
            line = line or info.line
    where = []
    if file:
        where.append(f"{file}:{line}" if line else str(file))
    if element_id:
        where.append(f"element '{element_id}'" + (f" ({element_name})" if element_name else ""))
    script_line = getattr(exc, "line_number", None)  # ScriptError: the line within the script
    if isinstance(script_line, int):
        where.append(f"script line {script_line}")
    own = getattr(exc, "message", None)  # ScriptError, DiagramError: the message without its location
    message = own if isinstance(own, str) and own else str(exc)
    if not isinstance(exc, DomainError):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return Failure(f"{', '.join(where)}: {message}" if where else message, element_id, element_name)


def _element_in_traceback(tb: TracebackType | None) -> str | None:
    """The BPMN element being run where the error was raised (the innermost task the frames hold)."""
    found = None
    while tb is not None:
        for name in ("my_task", "task"):
            task = tb.tb_frame.f_locals.get(name)
            bpmn_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
            if isinstance(bpmn_id, str):
                found = bpmn_id
                break
        tb = tb.tb_next
    return found


def record_incident(
    uow_factory: Callable[[], UnitOfWork], *, instance_id: int, kind: str, failure: Failure, now: datetime,
    actor: str, retry_first: timedelta | None = FIRST_INCIDENT_RETRY, timer_ids: Sequence[int] = (),
    also: Callable[[UnitOfWork], object] | None = None,
) -> Incident:
    """Open or update the case's incident in a transaction of its own; it is retried after the backoff.

    ``timer_ids`` (the case's due timers) are postponed to the next try. ``retry_first`` None means
    no automatic retry (a person's task completion: an administrator retries or repairs the case).
    ``also`` runs in the same transaction (e.g. keeping the incoming message for the retry).
    """
    failure = Failure(failure.error.replace("\x00", "\\0"), failure.element_id, failure.element_name)
    with uow_factory() as uow:
        current = uow.incidents.open_for(instance_id)
        tries = (current.tries if current else 0) + 1
        next_try = now + incident_retry_delay(tries, retry_first) if retry_first is not None else None
        incident = uow.incidents.record(instance_id=instance_id, kind=kind, error=failure.error,
                                        element_id=failure.element_id, element_name=failure.element_name,
                                        now=now, next_try_at=next_try)
        events = []
        if timer_ids:
            retry_at = next_try or now + FIRST_INCIDENT_RETRY
            uow.timers.postpone(timer_ids, retry_at, failure.error)
            events.append(EventRecord(at=now, actor=actor, action="timer_failed", instance_id=instance_id,
                                      business_key=incident.business_key, element_id=failure.element_id,
                                      details={"error": failure.error[:500], "retry_at": retry_at.isoformat()}))
        if also is not None:
            also(uow)
        uow.events.append(events + [EventRecord(
            at=now, actor=actor, action="incident_recorded", instance_id=instance_id,
            business_key=incident.business_key, element_id=failure.element_id,
            details={"incident": incident.id, "kind": kind, "tries": incident.tries, "error": failure.error[:500],
                     "next_try_at": next_try.isoformat() if next_try else None},
        )])
        uow.commit()
    return incident


def resolve_on_success(uow: UnitOfWork, instance_id: int, *, actor: str, now: datetime,
                       kinds: Sequence[str]) -> Incident | None:
    """Inside a case's successful transaction: resolve its open incident of one of ``kinds`` ("succeeded on retry").

    Only the path that failed proves the fix: a timer firing does not resolve a failed task completion.
    """
    incident = uow.incidents.open_for(instance_id)
    if incident is None or incident.kind not in kinds:
        return None
    uow.incidents.resolve(incident.id, by=actor, resolution=RESOLVED_ON_RETRY, now=now)
    uow.events.append([EventRecord(
        at=now, actor=actor, action="incident_resolved", instance_id=instance_id,
        business_key=incident.business_key, element_id=incident.element_id,
        details={"incident": incident.id, "resolution": RESOLVED_ON_RETRY, "tries": incident.tries},
    )])
    return incident


def parked_by(exc: BaseException) -> bool:
    """Whether a failure in a person's or a system's use case is the diagram's, not theirs.

    Script and diagram errors and anything unexpected (a value that cannot be stored, an instant
    out of range, a statement the database refuses) park the case; what the person can act on —
    a form error, a conflict, a permission, a task already done, the database unavailable — does not.
    """
    if isinstance(exc, ScriptError | DiagramError):
        return not refused_on_purpose(exc)
    return isinstance(exc, Exception) and not isinstance(exc, DomainError)


#: The diagram helper that refuses a step on purpose (``fail_if(condition, message)``): its message
#: is for the person, who can correct what they entered.
_REFUSING_HELPER = "fail_if"


def refused_on_purpose(exc: BaseException) -> bool:
    """Whether a script error is the diagram refusing the step on purpose (``fail_if``), not a fault."""
    return refusal_in(exc) is not None


def refusal_in(exc: BaseException) -> ScriptError | None:
    """The diagram's refusal (``fail_if``) behind ``exc``, or None when it is a fault.

    The engine reports both as :class:`ScriptError`; the refusal is the innermost ScriptError in the
    cause chain raised inside ``fail_if`` (an :class:`~service.engine.scripting.Refusal`, carrying its
    key and values).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ScriptError) and _raised_in(current, _REFUSING_HELPER):
            return current
        current = current.__cause__ or current.__context__
    return None


def _raised_in(exc: BaseException, function: str) -> bool:
    """Whether the innermost frame of ``exc``'s traceback is ``function``."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name == function


def case_incident_error(incident: Incident, *, kept: bool = False) -> CaseHasIncident:
    """The error a person or a portal is answered with when their step parked the case."""
    return CaseHasIncident(
        f"case {incident.business_key} has a problem in its diagram ({incident.error[:300]}); "
        "nothing was saved and administrators are told", instance_id=incident.instance_id,
        incident_id=incident.id, kept=kept)


def check_incident_reader(actor: Actor) -> None:
    """Allow administrators and analysts (and national administrators); NotPermitted otherwise."""
    if not actor.is_person or not (actor.national_admin or any(actor.has_role(r) for r in INCIDENT_READER_ROLES)):
        raise NotPermitted("incidents are shown to administrators and analysts")


def list_incidents(
    uow: UnitOfWork, *, actor: Actor, status: Literal["open", "resolved", "all"] = "open",
    process_id: str | None = None, element_id: str | None = None, kind: str | None = None, limit: int = 200,
) -> list[Incident]:
    """Incidents, most recent first, for administrators and analysts."""
    check_incident_reader(actor)
    return uow.incidents.listing(status=status, process_id=process_id, element_id=element_id, kind=kind,
                                 limit=limit)
