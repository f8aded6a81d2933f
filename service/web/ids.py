"""Record ids in URLs and forms: a number beyond the database's integer range names nothing (404)."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

#: The largest id the database stores (a 32-bit INTEGER column on PostgreSQL).
MAX_ID = 2**31 - 1


class RecordIdConverter(IntegerConverter):
    """``<int:…>`` that does not match past :data:`MAX_ID`, so such a URL is an ordinary 404."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def record_id(value: str) -> int:
    """A form or query value as an id; ValueError (so ``request.args.get(type=…)`` gives None) out of range."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError(f"{value!r} is not a record id")
    return number
