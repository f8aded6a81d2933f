"""Running a use case again when the database broke a tie (a deadlock or a serialization failure)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from service.domain.errors import ConcurrencyConflict, RetryableConflict
from service.persistence.uow import UnitOfWork

T = TypeVar("T")

#: How many times a use case is run in all before a tie the database broke is answered as a conflict.
ATTEMPTS = 3
#: The longest pause before the next attempt, in seconds (each pause is a random part of it).
PAUSE = 0.05


def with_retry(uows: Callable[[], UnitOfWork], work: Callable[[UnitOfWork], T], *, attempts: int = ATTEMPTS,
               pause: float = PAUSE) -> T:
    """Run ``work`` in a fresh unit of work; a deadlock or serialization failure runs it again (bounded).

    Nothing of a failed attempt was saved, so running it again is safe; after the last attempt the
    tie is answered as an ordinary :class:`ConcurrencyConflict`.
    """
    for attempt in range(1, attempts + 1):
        try:
            with uows() as uow:
                return work(uow)
        except RetryableConflict as exc:
            if attempt == attempts:
                raise ConcurrencyConflict(f"{exc} (gave up after {attempts} attempts)") from exc
            time.sleep(random.uniform(pause / 4, pause) * attempt)  # noqa: S311 - jitter, not secrecy
    raise AssertionError("unreachable")  # pragma: no cover
