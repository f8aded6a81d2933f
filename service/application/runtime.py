"""What every use case that moves a case needs besides its unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.engine.runtime import ProcessEngine


@dataclass(frozen=True)
class Runtime:
    """The engine plus the deployment facts documents need (the provider's details)."""

    engine: ProcessEngine
    provider: Any = None
    extras: Mapping[str, Any] = field(default_factory=dict)
