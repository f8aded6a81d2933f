"""What a case may keep: JSON values (finite numbers) in its data and messages, real instants in its timers.

A case's state is saved as JSON (PostgreSQL's ``json``/``jsonb`` refuse ``NaN`` and
``Infinity``), outgoing payloads go to the outbox as JSON, and timers are stored as instants in
UTC. A value outside that — a ``range``, a set, a function, ``float('inf')``, a timer at
``9999-12-31T23:59:59-12:00`` (past year 9999 in UTC) or without an offset — would fail only
when saved, or worse, at every sweep. These checks find it while the step runs, so the step
fails naming the element and nothing of it is saved.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from service.domain.time import ALMATY

_EXAMPLE = "2026-03-20T17:00:00+05:00"
_ADVICE = {
    "range": "store a list", "set": "store a list", "frozenset": "store a list",
    "function": "store its result", "builtin_function_or_method": "store its result",
    "generator": "store a list", "map": "store a list", "filter": "store a list", "zip": "store a list",
    "bytes": "store text", "datetime": "store it as ISO 8601 text", "date": "store it as ISO 8601 text",
}


_STRICT = json.JSONEncoder(allow_nan=False, check_circular=False)  # a cycle ends in RecursionError


def is_storable(value: Any) -> bool:
    """Whether ``value`` can be written as strict JSON (finite numbers only); the fast check."""
    try:
        _STRICT.encode(value)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


def describe_unstorable(value: Any, label: str) -> str | None:
    """What in ``value`` (called ``label``) cannot be stored, where, and what to do instead; None if all can."""
    try:
        for where, problem in _problems(value, ""):
            return f"{label}{' at ' + where if where else ''} holds {problem}"
    except RecursionError:
        return f"{label} holds values nested too deeply, which cannot be stored"
    return None


def _problems(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not is_storable(value):
            yield path, "an integer too long to store; store it as text"
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            yield path, f"{'NaN' if math.isnan(value) else 'an infinite number'} ({value}), which cannot be stored; " \
                        "store a finite number or text"
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                yield path, f"a key {_short(key)} that is not text, which cannot be stored; use text keys"
                return
            yield from _problems(item, f"{path}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _problems(item, f"{path}[{index}]")
        return
    kind = type(value).__name__
    article = "an" if kind[:1] in "aeiou" else "a"
    advice = _ADVICE.get(kind, "store text, numbers, lists or dicts")
    yield path, f"{article} {kind}, which cannot be stored; {advice}"


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str | int | float | tuple) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def instant_problem(value: Any) -> str | None:
    """Why ``value`` is not an instant a timer can wait for (ISO 8601 with an offset, in range), or None."""
    if not isinstance(value, str):
        return (f"gave {type(value).__name__} {_short(value)}, not an ISO 8601 instant with an offset "
                f"such as {_EXAMPLE}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"gave {_short(value)}, which is not an ISO 8601 instant such as {_EXAMPLE}"
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        alone = "a date alone" if "T" not in value and " " not in value.strip() else "an instant without an offset"
        return f"gave {_short(value)}, {alone}; a timer needs an instant with an offset such as {_EXAMPLE}"
    try:
        parsed.astimezone(UTC)
        parsed.astimezone(ALMATY)
    except OverflowError:
        return f"gave {_short(value)}, which cannot be represented in UTC (outside years 1–9999)"
    return None
