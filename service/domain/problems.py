"""What validating diagrams and forms finds: one :class:`Problem` per mistake, with what to do about it.

A problem names where it is (the file, the line, the element's id and name), what is wrong, what
to do, how serious it is (an ``error`` stops a deployment; a ``warning`` does not) and its
``kind`` — a short, stable code (``variable-unknown``, ``duplicate-id``…) that tools and tests
match on instead of the wording.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from .errors import DiagramError
from .phrases import phrase

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class Problem:
    """One mistake in a diagram or form, located and explained."""

    file: str | None
    message: str
    hint: str = ""
    kind: str = "invalid"
    severity: Severity = ERROR
    line: int | None = None
    element_id: str | None = None
    element_name: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether the problem stops a deployment (warnings do not)."""
        return self.severity == ERROR

    def describe(self) -> str:
        """One line: where, what, and what to do."""
        where = []
        if self.file:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.element_id:
            label = f"element '{self.element_id}'"
            if self.element_name and self.element_name != self.element_id:
                label += f" ({self.element_name})"
            where.append(label)
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        return f"{text} — {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, Any]:
        """The problem as plain JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_error(cls, error: DiagramError, *, kind: str = "invalid", hint: str = "",
                   severity: Severity | None = None) -> Problem:
        """A problem from a :class:`DiagramError` (a check may set ``severity``/``kind``/``hint`` on it)."""
        chosen = severity or getattr(error, "severity", ERROR)
        return cls(
            file=error.file, message=error.message, line=error.line, element_id=error.element_id,
            element_name=error.element_name, kind=str(getattr(error, "kind", kind)),
            hint=str(getattr(error, "hint", hint)), severity=WARNING if chosen == WARNING else ERROR,
        )


#: The kinds of problem that have a title (``problem_kind_<kind>`` in the interface's catalogue, ``-`` as ``_``).
KINDS_WITH_TITLE: tuple[str, ...] = (
    "xml",
    "schema",
    "duplicate-id",
    "process",
    "duplicate-process",
    "flow",
    "code",
    "engine",
    "stage",
    "message",
    "message-uncaught",
    "message-never-sent",
    "lane-role",
    "task-without-lane",
    "gateway-default",
    "gateway-condition",
    "gateway-overlap",
    "unreachable",
    "no-end",
    "variable-unknown",
    "field-unknown",
    "setting-unknown",
    "timer",
    "timer-convention",
    "camunda",
    "form-missing",
    "form-invalid",
    "form-orphan",
    "sms-text",
    "file",
    "lint",
    "layout",
)


def kind_title(kind: str, language: str) -> str:
    """What a kind of problem is, in ``language`` (kk, ru or en); the kind itself if it has no title.

    The linter's kinds (``bpmnlint/<rule>``, ``bpmnlint-…``) and the layout checks' (``layout-…``) share one title.
    """
    family = "lint" if kind.startswith("bpmnlint") else "layout" if kind.startswith("layout-") else kind
    titled = kind if kind in KINDS_WITH_TITLE else family if family in KINDS_WITH_TITLE else None
    return phrase(f"problem_kind_{titled.replace('-', '_')}", language) if titled else kind


def sort_key(problem: Problem) -> tuple[str, int, str, str]:
    """Problems in reading order: by file, line, element, message."""
    return (problem.file or "", problem.line or 0, problem.element_id or "", problem.message)
