"""Deep validation of one diagram file: every problem, each located and with what to do.

:func:`inspect_diagram` reads a file and runs the checks that need nothing but the file; the
application adds what needs forms and the other diagrams (variables, timers on sample data,
messages between diagrams). A file that cannot be loaded (not XML, not BPMN, against the schema,
a flow pointing nowhere, code that does not compile, refused by the engine) is ``loadable=False``:
the checks that would only repeat its breakage in other words (paths, variables) do not run.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from service.domain.problems import Problem

from . import structure
from .facts import DiagramFacts, read_facts

__all__ = ["DiagramFacts", "Inspection", "inspect_diagram"]


@dataclass
class Inspection:
    """One file: its facts (when its XML could be read) and its problems so far."""

    file: str
    facts: DiagramFacts | None
    problems: list[Problem] = field(default_factory=list)
    loadable: bool = False


def inspect_diagram(file: str, source: bytes, *, roles: Collection[str], automatic_lane: str) -> Inspection:
    """Every problem of one diagram that the file alone shows."""
    root, problems = structure.parse_xml(file, source)
    if root is None:
        return Inspection(file, None, problems)
    problems += structure.duplicate_ids(file, root)
    problems += structure.schema_problems(file, root)
    process, missing = structure.main_process(file, root)
    problems += missing
    if process is None:
        return Inspection(file, None, problems)
    facts = read_facts(file, root, process)
    problems += structure.dangling_flows(facts)
    problems += structure.code_problems(file, root)
    problems += structure.stage_problems(facts)
    problems += structure.unnamed_messages(facts)
    if not any(p.is_error for p in problems):
        problems += structure.spiff_problems(file, root, facts.process_id)
    loadable = not any(p.is_error for p in problems)
    problems += structure.lane_problems(facts, roles, automatic_lane)
    problems += structure.gateway_problems(facts)
    problems += structure.camunda_problems(facts)
    if loadable:
        problems += structure.path_problems(facts)
    return Inspection(file, facts, problems, loadable)
