"""Checks of what diagram code reads: every variable written upstream, every timer a real instant.

A variable is written by a user task's form (its top-level fields), a script task's
assignments, a message's variable (``spiffworkflow:messageVariable``, the start message's
included: what intake and the API put in), or, for a process with a plain start event, whatever
the case was started with (unknown, so such a process's variables are not checked). A form that
declares no fields may write anything, and so stops the check for what lies after it.

Timers are evaluated in the product's scripting environment on sample data: each form field
gets a value of its type, each message a record whose fields look like their names
(``received_at`` an instant, ``days`` a number), and script tasks run on that data in flow order.
"""

from __future__ import annotations

import ast
import builtins
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from difflib import get_close_matches
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from service.domain.problems import WARNING, Problem

from ..clock import pinned_now
from ..scripting import RestrictedEnvironment
from ..storable import instant_problem
from .facts import B, DiagramFacts, Node, S
from .structure import problem_at

#: The instant sample data calls "now" and the value of fields holding an instant.
SAMPLE_INSTANT = "2026-03-20T17:00:00+05:00"
SAMPLE_DATE = "2026-03-20"
#: Forms of each user task (and start message): field name → its JSON Schema; None: any field.
FormFields = Mapping[str, Mapping[str, Any] | None]
_ALWAYS = frozenset(dir(builtins)) | {"True", "False", "None"}


@dataclass(frozen=True)
class Read:
    """Code that reads variables: where it runs, what it reads, what it writes itself."""

    owner: Any  # the lxml element named in a problem (a flow, event or task)
    at: str  # the node whose upstream must write the variables
    inclusive: bool  # whether ``at`` itself writes before the read (a task's form before its flow's condition)
    what: str
    reads: frozenset[str]


def _names(code: str, mode: str) -> tuple[set[str], set[str]]:
    """(names read, names written) by an expression (``eval``) or script (``exec``)."""
    try:
        tree = ast.parse(code.strip() if mode == "eval" else code, mode=mode)
    except SyntaxError:
        return set(), set()
    read: set[str] = set()
    written: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (written if isinstance(node.ctx, ast.Store | ast.Del) else read).add(node.id)
        elif isinstance(node, ast.arg):
            written.add(node.arg)
    return read, written


def script_writes(node: Node) -> set[str]:
    """Variables a script task assigns (its pre- and post-scripts included)."""
    written: set[str] = set()
    for script in _scripts(node):
        written |= _names(script, "exec")[1]
    return written


def _scripts(node: Node) -> list[str]:
    found = [e.text or "" for e in node.xml.findall(f"{B}script")]
    found += [e.text or "" for e in node.xml.iterfind(f"{B}extensionElements/{S}preScript")]
    found += [e.text or "" for e in node.xml.iterfind(f"{B}extensionElements/{S}postScript")]
    return found


def _reads(facts: DiagramFacts) -> Iterator[Read]:
    for flow in facts.flows.values():
        if flow.condition and flow.source in facts.nodes:
            read, written = _names(flow.condition, "eval")
            yield Read(flow.xml, flow.source, True, "condition", frozenset(read - written))
    for node in facts.nodes.values():
        at = node.xml.get("attachedToRef") if node.kind == "boundaryEvent" else node.id
        for tag in ("timeDate", "timeDuration", "timeCycle"):
            for timer in node.xml.iterfind(f"{B}timerEventDefinition/{B}{tag}"):
                read, written = _names(timer.text or "", "eval")
                yield Read(node.xml, at or node.id, False, "timer", frozenset(read - written))
        for payload in node.xml.iterfind(f"{B}messageEventDefinition/{B}extensionElements/{S}messagePayload"):
            read, written = _names(payload.text or "", "eval")
            yield Read(node.xml, node.id, False, "message payload", frozenset(read - written))
        scripts = _scripts(node)
        if scripts:
            read, written = set(), set()
            for script in scripts:
                r, w = _names(script, "exec")
                read |= r
                written |= w
            yield Read(node.xml, node.id, False, "script", frozenset(read - written))


def writers(facts: DiagramFacts, forms: FormFields) -> dict[str, frozenset[str] | None]:
    """node id → the variables it writes (None: it may write anything)."""
    found: dict[str, frozenset[str] | None] = {}
    for node in facts.nodes.values():
        names: set[str] = set()
        if node.kind == "userTask":
            fields = forms.get(node.id)
            if fields is None:
                found[node.id] = None
                continue
            names |= set(fields)
        if node.id in facts.message_variables:
            names.add(facts.message_variables[node.id])
        elif node.kind == "startEvent" and node.parent is None and not any(
                str(child.tag).endswith("EventDefinition") for child in node.xml):
            found[node.id] = None  # a plain start: whatever the case was started with
            continue
        names |= script_writes(node)
        if names:
            found[node.id] = frozenset(names)
    return found


def variable_problems(facts: DiagramFacts, forms: FormFields, helpers: frozenset[str]) -> list[Problem]:
    """Every variable read by a condition, timer, payload or script is written upstream."""
    written = writers(facts, forms)
    before = facts.upstream()
    starts = [n.id for n in facts.nodes.values() if n.kind == "startEvent"]
    reached = facts.reachable_from(starts)
    everywhere = sorted({name for names in written.values() if names for name in names})
    problems = []
    for read in _reads(facts):
        if read.at not in reached:
            continue  # the path check reports the element no path reaches
        sources = set(before.get(read.at, set())) | ({read.at} if read.inclusive else set())
        if any(written.get(s, frozenset()) is None for s in sources):
            continue  # an open form or a plain start upstream may write anything
        available = set().union(*(written.get(s) or frozenset() for s in sources))
        for name in sorted(read.reads - available - helpers - _ALWAYS):
            elsewhere = [s for s, names in written.items() if names and name in names]
            close = get_close_matches(name, everywhere, n=1, cutoff=0.6)
            if elsewhere:
                message = (f"the {read.what} reads '{name}', which is written only by "
                           f"{', '.join(sorted(elsewhere))}, and no path to here passes there first")
                hint = "write the variable on the way here (a form field or a script), or read another one"
            else:
                message = f"the {read.what} reads '{name}', which nothing in the process writes"
                hint = (f"did you mean '{close[0]}'? " if close else "") + (
                    "variables come from a form field, a script task, a message's variable or the start message")
            problems.append(problem_at(facts.file, read.owner, "variable-unknown", message, hint))
    return problems


class SampleRecord(dict[str, Any]):
    """A message's payload in sample data: a missing field gets a value that looks like its name."""

    def __init__(self, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self._fields = dict(fields or {})

    def __missing__(self, key: str) -> Any:
        schema = self._fields.get(key)
        value = sample_value(key, schema if isinstance(schema, Mapping) else None)
        self[key] = value
        return value


def sample_value(name: str, schema: Mapping[str, Any] | None) -> Any:
    """A plausible value for a field: by its JSON Schema when known, else by its name."""
    kind = (schema or {}).get("type")
    fmt = (schema or {}).get("format")
    if "enum" in (schema or {}) and schema and schema["enum"]:
        return schema["enum"][0]
    if fmt == "date-time" or (kind in (None, "string") and (
            name == "at" or name.endswith(("_at", "_until", "deadline", "due")))):
        return SAMPLE_INSTANT
    if fmt == "date" or (kind is None and name.endswith(("_date", "_on"))):
        return SAMPLE_DATE
    if kind == "boolean":
        return True
    if kind in ("integer", "number") or (kind is None and name.endswith(("days", "hours", "count"))):
        return 2
    if kind == "array":
        return []
    if kind == "object" or kind is None:
        return SampleRecord((schema or {}).get("properties"))
    return "sample"


def sample_data(facts: DiagramFacts, forms: FormFields,
                environment: RestrictedEnvironment) -> tuple[dict[str, Any], set[str]]:
    """Task data a case might have, filled in flow order from forms, messages and scripts; and the
    variables whose sample value is unknown (a script that failed on the sample data writes them, and
    nothing before gave them a value other than None)."""
    data: dict[str, Any] = {}
    unknown: set[str] = set()
    starts = [n.id for n in facts.nodes.values() if n.kind == "startEvent"]
    seen, queue = set(starts), deque(starts)
    while queue:
        node = facts.nodes[queue.popleft()]
        if node.id in facts.message_variables:
            start_form = next((forms.get(u.name) for u in facts.caught if u.node_id == node.id), None)
            data[facts.message_variables[node.id]] = SampleRecord(start_form)
        if node.kind == "userTask":
            for name, schema in (forms.get(node.id) or {}).items():
                data[name] = sample_value(name, schema if isinstance(schema, Mapping) else None)
        for script in _scripts(node):
            scratch = dict(data)
            try:
                environment.execute(script, scratch)
            except Exception:  # noqa: BLE001 - sample data may not satisfy a script: what it writes is unknown
                unknown |= {name for name in _names(script, "exec")[1] if data.get(name) is None}
                continue
            data.update(scratch)
        for nxt in facts.successors(node.id):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return data, unknown


def timer_problems(facts: DiagramFacts, data: Mapping[str, Any], unknown: set[str],
                   environment: RestrictedEnvironment) -> list[Problem]:
    """Every timer, evaluated on sample data, gives what its kind needs (a ``timeDate``: an instant with an offset)."""
    problems = []
    with pinned_now(datetime.fromisoformat(SAMPLE_INSTANT)):
        for node in facts.nodes.values():
            for tag in ("timeDate", "timeDuration", "timeCycle"):
                for timer in node.xml.iterfind(f"{B}timerEventDefinition/{B}{tag}"):
                    if _names(timer.text or "", "eval")[0] & unknown:
                        continue  # it reads what a script computes from data the sample cannot give
                    problems += _timer(facts, node, tag, (timer.text or "").strip(), data, environment)
    return problems


def _timer(facts: DiagramFacts, node: Node, tag: str, expression: str, data: Mapping[str, Any],
           environment: RestrictedEnvironment) -> list[Problem]:
    if not expression:
        return []
    try:
        value = environment.evaluate(expression, dict(data))
    except NameError:
        return []  # a variable nothing writes (the variable check reports it) or one an open form may write
    except Exception as exc:  # noqa: BLE001 - whatever the diagram's code raises is the analyst's to see
        return [problem_at(facts.file, node.xml, "timer",
                           f"the timer ({expression}) fails on sample data: {type(exc).__name__}: {exc}",
                           f"a {tag} must evaluate to an ISO 8601 string; e.g. working_deadline(received_at, 2)")]
    if tag == "timeDate":
        problem = instant_problem(value)
        if problem is None:
            return []
        hint = ("compute the date: working_deadline(start, n) or hours_after(start, h); a duration such as "
                "'P2D' belongs in a duration timer" if isinstance(value, str) and value.startswith(("P", "R"))
                else "give an instant with an offset: working_deadline(start, n), hours_after(start, h), "
                "add_working_days(deadline, n) or now() — not today(), a bare number or a date without a time")
        return [problem_at(facts.file, node.xml, "timer", f"the timer's date ({expression}) {problem}", hint)]
    parse = (TimerEventDefinition.parse_iso_duration if tag == "timeDuration"
             else TimerEventDefinition.parse_iso_recurring_interval)
    try:
        if not isinstance(value, str):
            raise ValueError(f"gave {type(value).__name__} {value!r}")
        parse(value)
    except Exception as exc:  # noqa: BLE001 - the engine's parser raises several kinds
        return [problem_at(facts.file, node.xml, "timer",
                           f"the timer ({expression}) is not an ISO 8601 {tag[4:].lower()}: {exc}",
                           "give an ISO 8601 duration such as 'PT24H', or use a timeDate with working_deadline()")]
    return [problem_at(facts.file, node.xml, "timer-convention",
                       f"a {tag} counts calendar time, not working days",
                       "the Rules' deadlines are working days: use a timeDate with working_deadline(start, n) "
                       "(or hours_after(start, h) for clock hours)", severity=WARNING)]


def payload_keys(facts: DiagramFacts, node_id: str) -> frozenset[str] | None:
    """The fields of the payload a throw event sends, when its expression shows them (None: unknown)."""
    node = facts.nodes.get(node_id)
    payload = None if node is None else node.xml.find(
        f"{B}messageEventDefinition/{B}extensionElements/{S}messagePayload")
    if payload is None:
        return None
    try:
        expression = ast.parse((payload.text or "").strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(expression, ast.Name):  # a variable: the dict a script builds for it
        built = [_dict_keys(statement.value) for other in facts.nodes.values() for script in _scripts(other)
                 for statement in _statements(script)
                 if isinstance(statement, ast.Assign) and any(
                     isinstance(t, ast.Name) and t.id == expression.id for t in statement.targets)]
        return built[0] if len(built) == 1 else None
    return _dict_keys(expression)


def _statements(script: str) -> list[ast.stmt]:
    try:
        return list(ast.parse(script).body)
    except SyntaxError:
        return []


def _dict_keys(expression: ast.expr) -> frozenset[str] | None:
    if isinstance(expression, ast.Dict) and all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) for k in expression.keys):
        return frozenset(k.value for k in expression.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return None


def field_problems(facts: DiagramFacts, records: Mapping[str, frozenset[str]]) -> list[Problem]:
    """Code reading ``record["field"]`` of a message's variable reads a field the message carries."""
    problems = []
    for owner, code, mode in _code(facts):
        try:
            tree = ast.parse(code.strip() if mode == "eval" else code, mode=mode)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                    and isinstance(node.value, ast.Name) and node.value.id in records
                    and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
                continue
            variable, key = node.value.id, node.slice.value
            known = records[variable]
            if key in known:
                continue
            close = get_close_matches(key, sorted(known), n=1, cutoff=0.75)
            problems.append(problem_at(
                facts.file, owner, "field-unknown",
                f"reads '{key}' of '{variable}', which the message does not carry",
                (f"did you mean '{close[0]}'? " if close else "if intake or the API adds it, ignore this; ")
                + f"its fields: {', '.join(sorted(known))}", severity="error" if close else WARNING))
    return problems


def _code(facts: DiagramFacts) -> Iterator[tuple[Any, str, str]]:
    for flow in facts.flows.values():
        if flow.condition:
            yield flow.xml, flow.condition, "eval"
    for node in facts.nodes.values():
        for tag in ("timeDate", "timeDuration", "timeCycle"):
            for timer in node.xml.iterfind(f"{B}timerEventDefinition/{B}{tag}"):
                yield node.xml, timer.text or "", "eval"
        for payload in node.xml.iterfind(f"{B}messageEventDefinition/{B}extensionElements/{S}messagePayload"):
            yield node.xml, payload.text or "", "eval"
        for script in _scripts(node):
            yield node.xml, script, "exec"


def setting_problems(facts: DiagramFacts, known: Collection[str]) -> list[Problem]:
    """Every ``setting("name")`` the diagram's code calls names a process setting."""
    problems = []
    for owner, code, mode in _code(facts):
        try:
            tree = ast.parse(code.strip() if mode == "eval" else code, mode=mode)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setting"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                    and node.args[0].value not in known):
                name = node.args[0].value
                close = get_close_matches(name, sorted(known), n=1, cutoff=0.6)
                hint = (f"did you mean '{close[0]}'? " if close else "") + f"settings: {', '.join(sorted(known))}"
                problems.append(problem_at(facts.file, owner, "setting-unknown",
                                           f"reads the setting '{name}', which does not exist", hint))
    return problems
