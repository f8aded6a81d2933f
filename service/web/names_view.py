"""Templates' helpers that name processes and diagram elements in the interface language.

``process_name(process_id)``, ``element_name(process_id, element_id, stored)`` and
``element_names_of(process_id)`` read the names file of each process's current version once per
request (see :mod:`service.application.case_diagram`); the case page passes its own version's names
and uses ``name_in(names, element_id, stored)``. Element ids are never what they print: an element
without a name shows the name stored with it (a task's title, an incident's element name) or "—".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import g

from service.application.case_diagram import current_names
from service.engine.names import DIAGRAM_LANGUAGE

from .context import language, services


def names_of(process_id: str) -> dict[str, str]:
    """Element id → name in the interface language for the current version of ``process_id`` ({} if unknown)."""
    cache: dict[tuple[str, str], dict[str, str]] = g.setdefault("diagram_names", {})
    key = (process_id, language())
    if key not in cache:
        svc = services()
        cache[key] = current_names(svc.runtime, svc.settings.processes_dir, process_id, key[1])
    return cache[key]


def process_name(process_id: str | None) -> str:
    """The process's name in the interface language; its id only when no diagram defines it."""
    if not process_id:
        return "—"
    return names_of(process_id).get(process_id) or process_id


def element_name(process_id: str | None, element_id: str | None, stored: str | None = None) -> str:
    """The element's name in the interface language, else ``stored`` (the name kept with a task or incident), else "—".

    In the diagrams' own language the stored name wins: it is the name in the case's own version.
    """
    if stored and language() == DIAGRAM_LANGUAGE:
        return stored
    if process_id and element_id:
        named = names_of(process_id).get(element_id)
        if named:
            return named
    return stored or "—"


def name_in(names: Mapping[str, str], element_id: str | None, stored: str | None = None) -> str:
    """``element_name`` over names already read (the case page's own version)."""
    if stored and language() == DIAGRAM_LANGUAGE:
        return stored
    return (names.get(element_id) if element_id else None) or stored or "—"


def name_helpers() -> dict[str, Any]:
    """The helpers, for ``app_context_processor``."""
    return {"process_name": process_name, "element_name": element_name, "element_names_of": names_of,
            "name_in": name_in}
