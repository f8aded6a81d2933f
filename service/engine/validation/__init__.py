"""Deep validation of one diagram file: every problem, each located and with what to do.

:func:`inspect_diagram` reads a file and runs the checks that need nothing but the file; the
application adds what needs forms and the other diagrams (variables, timers on sample data,
messages between diagrams). A file that cannot be loaded (not XML, not BPMN, against the schema,
a duplicate id, a flow pointing nowhere) is ``loadable=False``:
the checks that would only repeat its breakage in other words (paths, variables) do not run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from service.domain.calendar import WorkingCalendar
from service.domain.package import PackageRules
from service.domain.problems import Problem

from ..scripting import RestrictedEnvironment, build_helpers
from . import data, structure
from .data import FormFields, payload_keys
from .facts import DiagramFacts, read_facts

#: Problems after which the file's graph cannot be trusted: the checks built on it do not run.
_BREAKING = frozenset({"xml", "schema", "duplicate-id", "process", "flow"})

__all__ = ["DiagramFacts", "FormFields", "Inspection", "check_data", "inspect_diagram", "payload_keys"]


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
    loadable = not any(p.is_error and p.kind in _BREAKING for p in problems)
    if not any(p.is_error for p in problems):
        problems += structure.spiff_problems(file, root, facts.process_id)
    problems += structure.lane_problems(facts, roles, automatic_lane)
    problems += structure.gateway_problems(facts)
    problems += structure.camunda_problems(facts)
    if loadable:
        problems += structure.path_problems(facts)
    return Inspection(file, facts, problems, loadable)


def check_data(facts: DiagramFacts, forms: FormFields, *, records: Mapping[str, frozenset[str]] | None = None,
               calendar: WorkingCalendar | None = None, rules: PackageRules | None = None,
               settings: Mapping[str, Any] | None = None) -> list[Problem]:
    """What a loadable diagram's code reads is written upstream, and its timers give what they must.

    ``records``: for a message's variable whose fields are known, those fields (``request["…"]``).
    """
    helpers = build_helpers(calendar or WorkingCalendar(), rules, settings)
    environment = RestrictedEnvironment(helpers)
    problems = data.variable_problems(facts, forms, frozenset(helpers))
    problems += data.field_problems(facts, records or {})
    if settings is not None:
        problems += data.setting_problems(facts, frozenset(settings))
    sample, unknown = data.sample_data(facts, forms, environment)
    problems += data.timer_problems(facts, sample, unknown, environment)
    return problems
