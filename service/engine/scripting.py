"""Restricted evaluation of the expressions and scripts written in diagrams.

SpiffWorkflow evaluates conditions, timer expressions and script tasks with plain ``eval`` and
``exec``: a diagram could ``import os`` or climb ``().__class__.__base__.__subclasses__()``.
Here every snippet is compiled with RestrictedPython (no names or attributes starting with
``_``, no ``__import__``, no ``open``), runs with a small allow-list of builtins and domain
helpers, and a line budget stops runaway loops. :mod:`service.engine.limits` bounds each
evaluation's time and memory, C-level calls included (guarded operators, builtins and methods, a
wall clock and a memory ceiling). Compiled code is cached by its text, so the restriction costs
nothing after the first run of a diagram.

Exceptions that are not ``Exception`` (``SystemExit``, ``GeneratorExit``…) are not offered to
diagram code; should one still come out of it, it becomes a :class:`ScriptError`. The one
exception is ``KeyboardInterrupt``: diagram code cannot name it, so it can only be a real
interrupt of the process, and it is left to stop the process.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from types import CodeType, FrameType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition

from service.domain import package
from service.domain.calendar import WorkingCalendar
from service.domain.corrections import corrected_request
from service.domain.errors import ScriptError
from service.domain.package import PackageRules
from service.domain.time import ALMATY, format_instant, parse_instant

from .clock import current_instant
from .limits import (
    BoundedTransformer,
    Budget,
    ScriptBudgetExceeded,
    current_budget,
    guard_globals,
    guarded_builtins,
    method_guard,
)
from .storable import instant_problem

#: Lines a single script may execute before it is stopped as a runaway loop.
LINE_BUDGET = 100_000

_EXTRA_BUILTINS: dict[str, Any] = {
    name: getattr(__import__("builtins"), name)
    for name in (
        "dict", "list", "set", "frozenset", "min", "max", "sum", "any", "all", "sorted",
        "enumerate", "map", "filter", "reversed", "len", "abs", "round", "str", "int", "float",
        "bool", "tuple", "range", "zip", "isinstance",
    )
}


#: Builtins RestrictedPython offers that diagram code must not have: exceptions outside
#: ``Exception`` (raising them would bypass every ``except Exception``) and class building.
_WITHHELD = ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "__build_class__")

#: What a ``fail_if`` message must look like to be taken for a refusal key (else it is the text itself).
REFUSAL_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
#: A ``{name}`` placeholder of a refusal's text.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

__all__ = ["LINE_BUDGET", "REFUSAL_KEY", "Refusal", "ScriptBudgetExceeded", "build_script_engine",
           "compile_expression", "compile_script", "fill_in"]


def fill_in(template: str, values: Mapping[str, object]) -> str:
    """``template`` with each ``{name}`` replaced by its value; a placeholder without a value stays as written."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


class Refusal(ScriptError):
    """A step the diagram refuses on purpose (``fail_if``): its message or refusal key, and the values to fill in.

    ``key`` is the second argument as written; where the names file of the diagram's version declares
    it under ``[refusals.<key>]`` the person reads that text in their language, else ``key`` itself.
    The ``message`` (for logs, the API and operators) is ``key`` with the values filled in, and those
    no placeholder took listed after it, e.g. ``extension_over_limit (limit=10, used=5)``.
    ``process_id`` is the process whose diagram refused, set by the run that executed it (None until then).
    """

    def __init__(self, key: str, values: Mapping[str, Any]) -> None:
        self.key = key
        self.values = dict(values)
        self.process_id: str | None = None
        message = fill_in(key, self.values)
        rest = [f"{name}={value}" for name, value in self.values.items() if f"{{{name}}}" not in key]
        super().__init__(f"{message} ({', '.join(rest)})" if rest else message)


def _compile_error(source: str, errors: Sequence[str]) -> ScriptError:
    return ScriptError(f"forbidden or invalid code in {source!r}: {'; '.join(errors)}")


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression the restricted way, or raise :class:`ScriptError`."""
    result = compile_restricted_eval(source, "<diagram expression>", policy=BoundedTransformer)
    if result.errors or result.code is None:
        raise _compile_error(source, result.errors)
    return result.code


@functools.lru_cache(maxsize=4096)
def compile_script(source: str) -> CodeType:
    """Compile a script task's text the restricted way, or raise :class:`ScriptError`."""
    tree = ast.parse(source)  # SyntaxError surfaces with its own line number
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptError(f"imports are not allowed in diagram scripts (line {node.lineno})")
    result = compile_restricted_exec(source, "<diagram script>", policy=BoundedTransformer)
    if result.errors or result.code is None:
        raise _compile_error(source, result.errors)
    return result.code


def _as_instant(value: datetime | str) -> datetime:
    return parse_instant(value) if isinstance(value, str) else value


def build_helpers(
    calendar: WorkingCalendar, rules: PackageRules | None = None, settings: Mapping[str, Any] | None = None,
) -> dict[str, Callable[..., Any]]:
    """The domain functions a diagram may call, e.g. in a timer's ``timeDate``."""
    package_rules = rules or PackageRules()
    process_settings = dict(settings or {})

    def working_deadline(start: datetime | str, days: int) -> str:
        """End of the ``days``-th working day after ``start`` counts as received, ISO 8601."""
        return format_instant(calendar.working_deadline(_as_instant(start), days))

    def add_working_days(deadline: datetime | str, days: int) -> str:
        """A deadline moved ``days`` working days later (an extension), ISO 8601."""
        return format_instant(calendar.extend_deadline(_as_instant(deadline), days))

    def fail_if(condition: bool, message: str, **values: Any) -> None:
        """When ``condition`` holds, refuse the step with ``message`` (a text or a refusal key) and ``values``.

        Nothing of the step is saved; the person sees the refusal beside the field and may correct it.
        """
        if condition:
            raise Refusal(str(message), values)

    def is_past(instant: datetime | str) -> bool:
        """Whether ``instant`` is at or before now (e.g. a review deadline that has been missed)."""
        return _as_instant(instant) <= current_instant()

    def hours_after(start: datetime | str, hours: int | float) -> str:
        """``start`` plus clock hours (not working days), ISO 8601 — e.g. §7-1's 24 hours."""
        return format_instant(_as_instant(start) + timedelta(hours=hours))

    def now() -> str:
        """The current instant (as pinned by the caller), ISO 8601 in Asia/Almaty."""
        return format_instant(current_instant())

    def today() -> str:
        """Today's date in Asia/Almaty, ISO 8601."""
        return current_instant().astimezone(ALMATY).date().isoformat()

    def is_working_day(day: date | str) -> bool:
        """Whether ``day`` is a working day in the provider's calendar."""
        return calendar.is_working_day(date.fromisoformat(day) if isinstance(day, str) else day)

    def check_package(request: Mapping[str, Any]) -> list[dict[str, str]]:
        """Problems with an application's document package as of today (§4, §5; Law Art. 19)."""
        return package.check_package(request, package_rules, current_instant().astimezone(ALMATY).date())

    def corrected(request: Mapping[str, Any], corrections: Mapping[str, Any]) -> dict[str, Any]:
        """The request with a clerk's corrections of the documents or the VKK conclusion, recorded."""
        return corrected_request(request, corrections, format_instant(current_instant()))

    def setting(name: str) -> Any:
        """A documented process setting, e.g. ``setting("proactive_silence_is_refusal")``."""
        if name not in process_settings:
            raise KeyError(f"no process setting '{name}' (known: {', '.join(sorted(process_settings))})")
        return process_settings[name]

    return {
        "check_package": check_package,
        "corrected": corrected,
        "add_working_days": add_working_days,
        "fail_if": fail_if,
        "is_past": is_past,
        "setting": setting,
        "working_deadline": working_deadline,
        "hours_after": hours_after,
        "now": now,
        "today": today,
        "is_working_day": is_working_day,
    }


def _guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    value = safer_getattr(obj, name, *default)
    return method_guard(obj, name) or value


def _run_with_budget(code: CodeType, scope: dict[str, Any]) -> Any:
    """Run ``code`` within its budgets; the previous trace function (coverage, debugger) survives."""
    budget = Budget(LINE_BUDGET)
    previous = sys.gettrace()

    def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            budget.line()
        return local_trace

    def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
        return local_trace if frame.f_code.co_filename.startswith("<diagram") else None

    token = current_budget.set(budget)
    sys.settrace(global_trace)
    try:
        return eval(code, scope)  # noqa: S307 - restricted code object, guarded globals
    except (Exception, KeyboardInterrupt):
        raise
    except BaseException as exc:  # SystemExit, GeneratorExit… must not leave the engine
        raise ScriptError(f"diagram code raised {type(exc).__name__}, which is not allowed") from exc
    finally:
        sys.settrace(previous)
        current_budget.reset(token)


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow script environment that only runs restricted, budgeted code."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(dict(helpers))
        builtins = {name: value for name, value in safe_builtins.items() if name not in _WITHHELD}
        builtins.update(_EXTRA_BUILTINS)
        builtins.update(guarded_builtins())
        self._base: dict[str, Any] = {
            "__builtins__": builtins,
            **guard_globals(),
            "_getattr_": _guarded_getattr,
            "_getitem_": _guarded_getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            **helpers,
        }

    def _scope(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        scope = dict(self._base)
        scope.update(external or {})
        scope.update(context)
        return scope

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        """Evaluate a condition or timer expression against task data."""
        return _run_with_budget(compile_expression(expression), self._scope(context, external_context))

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        """Run a script task; its new and changed variables become task data."""
        self.check_for_overwrite(context, external_context or {})
        code = compile_script(script)
        scope = self._scope(context, external_context)
        _run_with_budget(code, scope)
        for name in [key for key in context if key not in scope]:
            del context[name]
        for name, value in scope.items():
            if name in self._base or name.startswith("_") or callable(value):
                continue
            if external_context and name in external_context:
                continue
            context[name] = value
        return True


def _is_time_date(task: Any, expression: str) -> bool:
    """Whether ``expression`` is the ``timeDate`` of a timer ``task`` waits on (alone or behind a gateway)."""
    definition = getattr(task.task_spec, "event_definition", None)
    inner = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    return any(isinstance(d, TimeDateEventDefinition) and d.expression == expression for d in inner)


class RestrictedScriptEngine(PythonScriptEngine):
    """The script engine, plus: a ``timeDate`` must give an ISO 8601 instant with an offset, in range."""

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        """Evaluate ``expression`` for ``task``; a timer's date is checked before SpiffWorkflow parses it."""
        value = super().evaluate(task, expression, external_context)
        if _is_time_date(task, expression):
            problem = instant_problem(value)
            if problem is not None:
                error = ScriptError(f"the timer's date ({expression.strip()}) {problem}")
                raise WorkflowTaskException(error.message, task=task, exception=error) from error
        return value


def build_script_engine(
    calendar: WorkingCalendar, rules: PackageRules | None = None, settings: Mapping[str, Any] | None = None,
) -> PythonScriptEngine:
    """A SpiffWorkflow script engine running diagram code restricted, with the domain helpers."""
    return RestrictedScriptEngine(environment=RestrictedEnvironment(build_helpers(calendar, rules, settings)))
