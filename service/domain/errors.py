"""Errors the product raises, in the domain's words; every layer above translates to these."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user, analyst or operator is meant to read."""


class CalendarError(DomainError, ValueError):
    """A date, instant or working-day count the calendar cannot work with."""


class DiagramError(DomainError):
    """A BPMN diagram that cannot be loaded; names the file, element and line where known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        element_id: str | None = None,
        element_name: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.element_id = element_id
        self.element_name = element_name
        self.line = line
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line an analyst can act on: where, then what."""
        where = []
        if self.file:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.element_id:
            label = f"element '{self.element_id}'"
            if self.element_name:
                label += f" ({self.element_name})"
            where.append(label)
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ScriptError(DomainError):
    """An expression or script in a diagram failed, tried something forbidden, or made an unstorable value.

    Carries what the engine knows: the diagram ``file``, the ``element_id`` and ``element_name``,
    the ``line_number`` within the script or expression (1 = its first line; SpiffWorkflow's name)
    with that line's text as ``error_line``, and the ``message`` itself, without the location.
    """

    def __init__(
        self,
        message: str,
        *,
        element_id: str | None = None,
        element_name: str | None = None,
        file: str | None = None,
        line_number: int | None = None,
        error_line: str | None = None,
    ) -> None:
        self.message = message
        self.element_id = element_id
        self.element_name = element_name
        self.file = file
        self.line_number = line_number
        self.error_line = error_line
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: file, element (id and name), line in the script, then the message."""
        where = []
        if self.file:
            where.append(self.file)
        if self.element_id:
            label = f"element '{self.element_id}'"
            if self.element_name and self.element_name != self.element_id:
                label += f" ({self.element_name})"
            where.append(label)
        if self.line_number is not None:
            where.append(f"script line {self.line_number}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class NotFound(DomainError):
    """An unknown case, task, process or message id."""


class ConcurrencyConflict(DomainError):
    """Someone else changed the case first; nothing of this attempt was saved."""


class RetryableConflict(ConcurrencyConflict):
    """The database broke a tie between transactions (a deadlock, a serialization failure): try again."""


class Unavailable(DomainError):
    """The database cannot be used right now (unreachable, read-only, full or busy); nothing was saved."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the database is unavailable ({reason})")


class CaseHasIncident(DomainError):
    """The case failed in its diagram (not in what the person entered): it is parked and administrators are told.

    Nothing of the attempt was saved; ``incident_id`` is the case's open incident, ``kept`` whether
    an incoming message was kept for the retry.
    """

    def __init__(self, message: str, *, instance_id: int, incident_id: int, kept: bool = False) -> None:
        self.instance_id = instance_id
        self.incident_id = incident_id
        self.kept = kept
        super().__init__(message)


class TaskNotReady(DomainError):
    """The task is no longer open (completed by someone else, or cancelled)."""


class InvalidInput(DomainError, ValueError):
    """Submitted values that the process cannot accept."""


class NotPermitted(DomainError):
    """The user's roles do not include the lane the task belongs to."""


class DuplicateCase(DomainError):
    """A case with this business key already exists for the process."""


class DuplicateMessage(DomainError):
    """A message with this idempotency key was received already (perhaps by a racing request)."""


class FormInvalid(InvalidInput):
    """Submitted values failed the form's rules; ``fields`` maps each field path to its messages.

    Each message has ``.text(language)`` (kk, ru or en), so the caller shows it beside the field.
    """

    def __init__(self, form: str, fields: dict[str, list[Any]]) -> None:
        self.form = form
        self.fields = fields
        first = next(iter(fields.items()), ("", []))
        detail = f"{first[0]}: {first[1][0].text('en')}" if first[1] else ""
        more = f" (and {len(fields) - 1} more field(s))" if len(fields) > 1 else ""
        super().__init__(f"form '{form}' is not valid — {detail}{more}")
