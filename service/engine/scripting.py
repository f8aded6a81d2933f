"""Restricted evaluation of the expressions and scripts written in diagrams.

SpiffWorkflow evaluates conditions, timer expressions and script tasks with plain ``eval`` and
``exec``: a diagram could ``import os`` or climb ``().__class__.__base__.__subclasses__()``.
Here every snippet is compiled with RestrictedPython (no names or attributes starting with
``_``, no ``__import__``, no ``open``), runs with a small allow-list of builtins and domain
helpers, and a line budget stops runaway loops. Compiled code is cached by its text, so the
restriction costs nothing after the first run of a diagram.
"""

from __future__ import annotations

import ast
import functools
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
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from service.domain import package
from service.domain.calendar import WorkingCalendar
from service.domain.corrections import corrected_request
from service.domain.errors import ScriptError
from service.domain.package import PackageRules
from service.domain.time import ALMATY, format_instant, parse_instant

from .clock import current_instant

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


class ScriptBudgetExceeded(Exception):
    """Raised inside a script that ran more lines than :data:`LINE_BUDGET`."""


def _compile_error(source: str, errors: Sequence[str]) -> ScriptError:
    return ScriptError(f"forbidden or invalid code in {source!r}: {'; '.join(errors)}")


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression the restricted way, or raise :class:`ScriptError`."""
    result = compile_restricted_eval(source, "<diagram expression>")
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
    result = compile_restricted_exec(source, "<diagram script>")
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

    def fail_if(condition: bool, message: str) -> None:
        """Stop the step with ``message`` when ``condition`` holds (nothing of the step is saved)."""
        if condition:
            raise ScriptError(message)

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


def _run_with_budget(code: CodeType, scope: dict[str, Any]) -> Any:
    """Run ``code`` with a line budget; the previous trace function (coverage, debugger) survives."""
    remaining = LINE_BUDGET
    previous = sys.gettrace()

    def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal remaining
        if event == "line":
            remaining -= 1
            if remaining < 0:
                raise ScriptBudgetExceeded(f"script ran more than {LINE_BUDGET} lines")
        return local_trace

    def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
        return local_trace if frame.f_code.co_filename.startswith("<diagram") else None

    sys.settrace(global_trace)
    try:
        return eval(code, scope)  # noqa: S307 - restricted code object, guarded globals
    finally:
        sys.settrace(previous)


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow script environment that only runs restricted, budgeted code."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(dict(helpers))
        builtins = dict(safe_builtins)
        builtins.update(_EXTRA_BUILTINS)
        self._base: dict[str, Any] = {
            "__builtins__": builtins,
            "_getattr_": safer_getattr,
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


def build_script_engine(
    calendar: WorkingCalendar, rules: PackageRules | None = None, settings: Mapping[str, Any] | None = None,
) -> PythonScriptEngine:
    """A SpiffWorkflow script engine running diagram code restricted, with the domain helpers."""
    return PythonScriptEngine(environment=RestrictedEnvironment(build_helpers(calendar, rules, settings)))
