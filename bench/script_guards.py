"""What the script limits cost: ``python -m bench.script_guards [--rounds N]``.

Three figures, each with and without the guards of ``service.engine.limits`` and the storable
checks of ``service.engine.storable``:

1. one gateway condition (``complaint["channel"] == "electronic"``), per evaluation;
2. one script task like the complaint diagram's ``set_review_period`` (nine assignments, two
   helper calls), per run;
3. a whole service-delivery case in memory (b1's in-memory case: message, three tasks), where
   the engine also checks every step's data, payloads and timers for storability.

The baseline for 1 and 2 compiles with RestrictedPython's own policy and runs with its safe
builtins under a line-counting trace — the configuration before the limits were added. The
baseline for 3 replaces the storability check by nothing. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import full_write_guard, safe_builtins, safer_getattr

from service.domain.calendar import WorkingCalendar
from service.engine import runtime
from service.engine.scripting import RestrictedEnvironment, build_helpers

from .b1_case import in_memory_case
from .common import product_services

CONDITION = 'complaint["channel"] == "electronic"'
SCRIPT = """missed_review_recorded = False
review_days = 15 if complaint["addressee"] == "quality_authority" else 5
review_deadline = working_deadline(complaint["registered_at"], review_days)
forwarding_deadline = working_deadline(complaint["registered_at"], 3)
deemed_refused = False
forwarding_overdue = False
act_reference = ""
act_summary = ""
extended_days = 0"""
DATA: dict[str, Any] = {"complaint": {"channel": "electronic", "addressee": "provider",
                                      "registered_at": "2026-03-20T11:00:00+05:00", "text": "…" * 200}}


def _old_run(code: CodeType, scope: dict[str, Any]) -> Any:
    """The runner before the limits: a line counter under sys.settrace, nothing else."""
    remaining = 100_000

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal remaining
        if event == "line":
            remaining -= 1
            if remaining < 0:
                raise RuntimeError("line budget")
        return local

    previous = sys.gettrace()
    sys.settrace(lambda f, e, a: local if f.f_code.co_filename.startswith("<diagram") else None)
    try:
        return eval(code, scope)  # noqa: S307 - benchmark of restricted code
    finally:
        sys.settrace(previous)


@functools.lru_cache(maxsize=64)
def _old_compile(source: str, mode: str) -> CodeType:
    result = (compile_restricted_eval(source, "<diagram expression>") if mode == "eval"
              else compile_restricted_exec(source, "<diagram script>"))
    assert result.code is not None
    return result.code


class OldEnvironment(RestrictedEnvironment):
    """The same environment as before the limits: RestrictedPython's policy and safe builtins, a line counter."""

    def __init__(self, helpers: dict[str, Any]) -> None:
        super().__init__(helpers)
        self._base = {"__builtins__": dict(safe_builtins), "_getattr_": safer_getattr,
                      "_getitem_": lambda o, k: o[k], "_getiter_": iter, "_write_": full_write_guard, **helpers}

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        """As before the limits."""
        return _old_run(_old_compile(expression, "eval"), self._scope(context, external_context))

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        """As before the limits (same copying of the results into the task data)."""
        self.check_for_overwrite(context, external_context or {})
        scope = self._scope(context, external_context)
        _old_run(_old_compile(script, "exec"), scope)
        for name in [key for key in context if key not in scope]:
            del context[name]
        for name, value in scope.items():
            if name in self._base or name.startswith("_") or callable(value):
                continue
            context[name] = value
        return True


def _per_call(function: Callable[[], Any], rounds: int) -> float:
    for _ in range(min(rounds, 200)):
        function()
    started = time.perf_counter()
    for _ in range(rounds):
        function()
    return (time.perf_counter() - started) / rounds * 1e6


def evaluations(rounds: int) -> list[tuple[str, float, float]]:
    """Microseconds per condition and per script, without and with the guards."""
    helpers = build_helpers(WorkingCalendar())
    rows = []
    for what, call in (
        ("gateway condition", lambda env: env.evaluate(CONDITION, dict(DATA))),
        ("script task (9 lines, 2 helper calls)", lambda env: env.execute(SCRIPT, dict(DATA))),
    ):
        old, new = OldEnvironment(helpers), RestrictedEnvironment(helpers)
        rows.append((what, _per_call(functools.partial(call, old), rounds),
                     _per_call(functools.partial(call, new), rounds)))
    return rows


def whole_case(cases: int) -> tuple[str, float, float, float]:
    """Milliseconds per in-memory service-delivery case without and with the storability checks, and their own time."""
    with product_services(None) as services:
        checked = runtime.ProcessRun._check_storable
        spent = [0.0]

        def timed(self: runtime.ProcessRun, since: float) -> None:
            started = time.perf_counter()
            try:
                checked(self, since)
            finally:
                spent[0] += time.perf_counter() - started

        timings = []
        for check in (lambda self, since: None, timed):
            runtime.ProcessRun._check_storable = check  # type: ignore[method-assign]
            try:
                spent[0] = 0.0
                timings.append(_per_call(lambda: in_memory_case(services, "BENCH-1"), cases) / 1000)
            finally:
                runtime.ProcessRun._check_storable = checked  # type: ignore[method-assign]
        own = spent[0] / (cases + min(cases, 200)) * 1000
    return ("service-delivery case in memory (ms; with = storability checks on)", timings[0], timings[1], own)


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.script_guards")
    parser.add_argument("--rounds", type=int, default=20_000, help="evaluations per figure (cases: rounds / 200)")
    args = parser.parse_args()
    rows = evaluations(args.rounds)
    print("| what | before (µs) | with limits (µs) | extra |")
    print("|---|---|---|---|")
    for what, before, after in rows:
        print(f"| {what} | {before:.1f} | {after:.1f} | {after - before:+.1f} µs ({after / before:.2f}×) |")
    what, before, after, own = whole_case(max(args.rounds // 200, 20))
    print(f"| {what} | {before:.2f} ms | {after:.2f} ms | {after - before:+.2f} ms ({after / before:.2f}×); "
          f"the checks themselves: {own:.3f} ms per case |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
