"""What every use case that moves a case needs besides its unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.engine.runtime import ProcessEngine
from service.persistence.uow import UnitOfWork


class DocumentIssuer(Protocol):
    """Renders and stores a document a diagram asked for (``document.<kind>``); returns stored ids."""

    def __call__(self, uow: UnitOfWork, *, instance_id: int, business_key: str, kind: str,
                 payload: Mapping[str, Any], now: datetime) -> list[int]: ...


@dataclass(frozen=True)
class Runtime:
    """The engine plus the services a run may call: issuing documents with the provider's details."""

    engine: ProcessEngine
    issue_document: DocumentIssuer | None = None
