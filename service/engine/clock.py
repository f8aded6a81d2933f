"""The engine's notion of "now": pinned per call, so timers fire as of the instant the caller names.

SpiffWorkflow reads the wall clock itself (``datetime.now`` inside its timer module) and offers
no way to inject a clock. The application, however, must be able to say "as of this instant"
(``homeschool timers fire --now …``, replaying a day, tests on real 2026 dates). We replace the
``datetime`` name *inside SpiffWorkflow's timer module only* with a subclass whose ``now()``
reads a context variable. Context variables are per thread and per task, so two requests
pinning different instants never see each other's clock; with nothing pinned the real clock
is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_pinned: ContextVar[datetime | None] = ContextVar("engine_now", default=None)


class _PinnableDatetime(datetime):
    """``datetime`` whose ``now()`` honours the instant pinned by :func:`pinned_now`."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _PinnableDatetime:  # type: ignore[override]
        pinned = _pinned.get()
        if pinned is None:
            return super().now(tz)
        value = pinned.astimezone(tz) if tz is not None else pinned.astimezone().replace(tzinfo=None)
        return cls.fromtimestamp(value.timestamp(), tz)


_spiff_timer.datetime = _PinnableDatetime  # type: ignore[misc]


def current_instant() -> datetime:
    """The pinned instant if one is set, else the real time (always timezone-aware)."""
    pinned = _pinned.get()
    return pinned if pinned is not None else datetime.now(UTC)


@contextlib.contextmanager
def pinned_now(instant: datetime) -> Iterator[None]:
    """Run the block as if the clock showed ``instant`` (which must be timezone-aware)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the engine clock needs a timezone-aware instant")
    token = _pinned.set(instant)
    try:
        yield
    finally:
        _pinned.reset(token)
