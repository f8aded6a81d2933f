"""Checks of one diagram's form and shape: XML, BPMN schema, ids, flows, code, lanes, gateways, paths.

Each check returns every problem it finds (never only the first) as a :class:`Problem` naming
the element and saying what to do.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Collection, Iterator
from difflib import get_close_matches
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from service.domain.errors import DomainError
from service.domain.problems import WARNING, Problem, Severity
from service.domain.stages import STAGES

from ..scripting import compile_expression, compile_script
from .facts import ACTIVITIES, BPMN_NS, PEOPLES_TASKS, B, DiagramFacts, S, line_of, local

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"


def problem_at(file: str, node: Any, kind: str, message: str, hint: str,
               severity: Severity = "error") -> Problem:
    """A problem located at an lxml element (its id, name and line)."""
    element = node if node is None or node.get("id") else _with_id(node)
    return Problem(
        file=file, message=message, hint=hint, kind=kind, severity=severity,
        line=line_of(node) if node is not None else None,
        element_id=None if element is None else element.get("id"),
        element_name=None if element is None else (element.get("name") or None),
    )


def _with_id(node: Any) -> Any:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node


def parse_xml(file: str, source: bytes) -> tuple[Any, list[Problem]]:
    """The XML tree, or the problem that it is not well-formed XML or not BPMN."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(source, parser)
    except etree.XMLSyntaxError as exc:
        return None, [Problem(file, f"not well-formed XML: {exc.msg}", kind="xml", line=exc.lineno or None,
                              hint="fix the XML at this line (export the diagram again from the modeler)")]
    if local(root.tag) != "definitions" or etree.QName(root).namespace != BPMN_NS:
        return None, [Problem(file, "is not a BPMN 2.0 file (root must be bpmn:definitions)", kind="xml",
                              hint="save the diagram as BPMN 2.0 XML")]
    return root, []


def duplicate_ids(file: str, root: Any) -> list[Problem]:
    """Every id used twice, each occurrence pointing at the other."""
    seen: dict[str, list[Any]] = defaultdict(list)
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id"):
            seen[node.get("id")].append(node)
    problems = []
    for element_id, nodes in seen.items():
        if len(nodes) < 2:
            continue
        for node in nodes:
            others = ", ".join(f"line {line_of(o)} ({local(o.tag)})" for o in nodes if o is not node)
            problems.append(problem_at(file, node, "duplicate-id",
                                       f"id '{element_id}' is used twice: here ({local(node.tag)}) and at {others}",
                                       "give one of them another id (ids must be unique in the file)"))
    return problems


def schema_problems(file: str, root: Any) -> list[Problem]:
    """Every BPMN 2.0 schema violation (duplicate ids are reported by :func:`duplicate_ids`)."""
    VALIDATOR.preprocess(root)
    schema = VALIDATOR.validator
    if schema.validate(root):
        return []
    problems = []
    for error in schema.error_log:
        if "'xs:ID'" in error.message:
            continue
        node = _on_line(root, error.line)
        problems.append(Problem(
            file, f"does not conform to the BPMN 2.0 schema: {error.message}", kind="schema", line=error.line,
            element_id=None if node is None else node.get("id"),
            element_name=None if node is None else node.get("name"),
            hint="remove or correct what the schema names (the modeler's XML view shows the line)"))
    return problems


def _on_line(root: Any, line: int | None) -> Any:
    best = None
    for node in root.iter():
        if line is not None and line_of(node) == line:
            best = node
    return _with_id(best) if best is not None else None


def main_process(file: str, root: Any) -> tuple[Any, list[Problem]]:
    """The one executable process of the file."""
    processes = root.findall(f"{B}process")
    executable = [p for p in processes if p.get("isExecutable", "false") == "true"]
    if len(executable) == 1:
        return executable[0], []
    found = "defines no bpmn:process" if not processes else (
        f"must mark exactly one process isExecutable=\"true\" (found {len(executable)})")
    return None, [Problem(file, found, kind="process",
                          hint="keep one executable process per file (the pool's 'Executable' box)")]


def dangling_flows(facts: DiagramFacts) -> list[Problem]:
    """Sequence flows whose source or target is not an element of the process."""
    problems = []
    for flow in facts.flows.values():
        for end, ref in (("sourceRef", flow.source), ("targetRef", flow.target)):
            if not ref:
                problems.append(problem_at(facts.file, flow.xml, "flow", f"sequence flow has no {end}",
                                           "connect both ends of the flow, or delete it"))
            elif ref not in facts.nodes:
                problems.append(problem_at(facts.file, flow.xml, "flow",
                                           f"sequence flow's {end} '{ref}' is not an element of this process",
                                           "reconnect the flow to an element of the process, or delete it"))
    return problems


def code_problems(file: str, root: Any) -> list[Problem]:
    """Every condition, timer, payload and script compiles the restricted way."""
    problems = []
    for owner, text, compile_ in code_snippets(root):
        if not text.strip():
            problems.append(problem_at(file, owner, "code", "an expression or script is empty",
                                       "write the expression, or remove the empty element"))
            continue
        try:
            compile_(text.strip() if compile_ is compile_expression else text)
        except SyntaxError as exc:
            problems.append(problem_at(file, owner, "code", f"syntax error in {text.strip()!r}: {exc.msg}",
                                       "correct the Python expression"))
        except DomainError as exc:
            problems.append(problem_at(file, owner, "code", str(exc),
                                       "use only what diagram code may (no imports, no names starting '_')"))
    return problems


def code_snippets(root: Any) -> Iterator[tuple[Any, str, Any]]:
    """(owning element, text, compiler) for each condition, timer expression, script and payload."""
    for node in root.iter(f"{B}conditionExpression"):
        yield node.getparent(), node.text or "", compile_expression
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for node in root.iter(f"{B}{tag}"):
            yield node.getparent().getparent(), node.text or "", compile_expression
    for node in root.iter(f"{B}script"):
        yield node.getparent(), node.text or "", compile_script
    for node in root.iter(f"{S}messagePayload"):
        owner = _with_id(node.getparent().getparent().getparent())
        yield (node if owner is None else owner), node.text or "", compile_expression


def stage_problems(facts: DiagramFacts) -> list[Problem]:
    """Every stage an element names is one of the §8 stages."""
    problems = []
    for node in facts.nodes.values():
        for prop in node.xml.iterfind(f"{B}extensionElements/{S}properties/{S}property"):
            stage = (prop.get("value") or "").strip()
            if prop.get("name") == "stage" and stage and stage not in STAGES:
                problems.append(problem_at(facts.file, node.xml, "stage", f"stage '{stage}' is not a service stage",
                                           f"use one of: {', '.join(STAGES)}"))
    return problems


def unnamed_messages(facts: DiagramFacts) -> list[Problem]:
    """Throw events and send tasks must name a bpmn:message."""
    thrown = {use.node_id for use in facts.thrown}
    return [problem_at(facts.file, node.xml, "message", "throws a message but names no bpmn:message",
                       "choose the message in the element's properties")
            for node in facts.nodes.values()
            if node.id not in thrown and (node.kind == "sendTask" or (
                node.kind in ("intermediateThrowEvent", "endEvent")
                and node.xml.find(f"{B}messageEventDefinition") is not None))]


def spiff_problems(file: str, root: Any, process_id: str) -> list[Problem]:
    """What SpiffWorkflow's own parser refuses."""
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=file)
        parser.get_spec(process_id)
        parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        return [Problem(file, str(exc.args[0]) if exc.args else "invalid diagram", kind="engine",
                        element_id=exc.id or None, element_name=exc.name or None, line=exc.line_number or None,
                        hint="correct the element the engine names")]
    except (SpiffWorkflowException, KeyError, ValueError, AttributeError) as exc:
        return [Problem(file, f"SpiffWorkflow could not parse it: {exc}", kind="engine",
                        hint="correct the diagram; the engine's message says what it could not read")]
    return []


def lane_problems(facts: DiagramFacts, roles: Collection[str], automatic_lane: str) -> list[Problem]:
    """Every lane is a known role; every task is in a lane; people's tasks are not in the automatic lane."""
    problems = []
    known = sorted(set(roles) | {automatic_lane})
    for lane in facts.lanes.values():
        if lane.id not in known:
            close = get_close_matches(lane.id, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(
                facts.file, f"lane '{lane.id}' is not a role anybody can hold", kind="lane-role",
                line=lane.line, element_id=lane.id, element_name=lane.name,
                hint=f"{hint}a lane's id is the role key; known roles: {', '.join(known)}"))
    if not facts.lanes:
        return problems
    for node in facts.nodes.values():
        if node.parent is not None:
            continue
        if node.lane is None and node.kind in ACTIVITIES:
            problems.append(problem_at(
                facts.file, node.xml, "task-without-lane", "the task lies in no lane, so no role gets it",
                "move the task into the lane of the role that does it"))
        elif node.lane == automatic_lane and node.kind in PEOPLES_TASKS:
            problems.append(problem_at(
                facts.file, node.xml, "task-without-lane",
                f"a person's task lies in the '{automatic_lane}' lane, which nobody holds",
                "move the task into the lane of the role that does it"))
    return problems


def gateway_problems(facts: DiagramFacts) -> list[Problem]:
    """Exclusive and inclusive gateways that split have a default flow and no two identical conditions."""
    problems = []
    for node in facts.nodes.values():
        if node.kind not in ("exclusiveGateway", "inclusiveGateway") or len(node.outgoing) < 2:
            continue
        default = node.xml.get("default")
        if not default:
            problems.append(problem_at(
                facts.file, node.xml, "gateway-default", "the gateway splits but has no default flow",
                "mark the flow taken when no condition holds as the default (the modeler's 'Default flow')"))
        elif default not in node.outgoing:
            problems.append(problem_at(facts.file, node.xml, "gateway-default",
                                       f"the default flow '{default}' is not one of the gateway's outgoing flows",
                                       "choose one of its outgoing flows as the default"))
        seen: dict[str, str] = {}
        for flow_id in node.outgoing:
            flow = facts.flows.get(flow_id)
            if flow is None or flow.id == default:
                continue
            if flow.condition is None or not flow.condition.strip():
                problems.append(problem_at(
                    facts.file, flow.xml, "gateway-condition",
                    f"flow out of gateway '{node.id}' has no condition and is not its default",
                    "give the flow a condition, or make it the gateway's default"))
                continue
            key = _normalised(flow.condition)
            if key in seen and node.kind == "exclusiveGateway":
                problems.append(problem_at(
                    facts.file, flow.xml, "gateway-overlap",
                    f"has the same condition as flow '{seen[key]}' out of gateway '{node.id}' "
                    f"({flow.condition.strip()}), so one of them is never taken",
                    "make the conditions exclude each other"))
            elif key in seen:
                problems.append(problem_at(
                    facts.file, flow.xml, "gateway-overlap",
                    f"has the same condition as flow '{seen[key]}' out of inclusive gateway '{node.id}' "
                    f"({flow.condition.strip()}): both are always taken together",
                    "merge the two branches, or make the conditions differ", severity=WARNING))
            else:
                seen[key] = flow.id
    return problems


def _normalised(expression: str) -> str:
    """The condition's meaning, as far as order does not matter: ``a and b`` = ``b and a``, ``1 == x`` = ``x == 1``."""
    try:
        return _canonical(ast.parse(expression.strip(), mode="eval").body)
    except SyntaxError:
        return " ".join(expression.split())


def _canonical(node: ast.expr) -> str:
    if isinstance(node, ast.BoolOp):
        return f"{type(node.op).__name__}({','.join(sorted(_canonical(v) for v in node.values))})"
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq | ast.Is):
        sides = sorted((_canonical(node.left), _canonical(node.comparators[0])))
        return f"{type(node.ops[0]).__name__}({sides[0]},{sides[1]})"
    if isinstance(node, ast.UnaryOp):
        return f"{type(node.op).__name__}({_canonical(node.operand)})"
    return ast.dump(node, annotate_fields=False)


def path_problems(facts: DiagramFacts) -> list[Problem]:
    """Every element is reachable from a start event and every path reaches an end event."""
    problems = []
    starts = [n.id for n in facts.nodes.values() if n.kind == "startEvent" and (
        n.parent is None or facts.nodes[n.parent].xml.get("triggeredByEvent") == "true")]
    if not starts:
        return [Problem(facts.file, "the process has no start event", kind="unreachable",
                        element_id=facts.process_id, hint="add a start event")]
    reached = facts.reachable_from(starts)
    lost = [node for node in facts.nodes.values() if node.id not in reached]
    fed = {nxt for node in lost for nxt in facts.successors(node.id)}
    entries = [node for node in lost if node.id not in fed] or lost  # report where the cut is, not all behind it
    for node in entries:
        problems.append(problem_at(facts.file, node.xml, "unreachable",
                                   "no path from a start event reaches this element"
                                   + (f" (nor {len(lost) - 1} element(s) after it)" if len(entries) == 1 < len(lost)
                                      else ""),
                                   "connect a flow into it (was one deleted?), or delete it"))
    ends = {n.id for n in facts.nodes.values() if n.kind == "endEvent"}
    finishing = _reaching(facts, ends)
    for node in facts.nodes.values():
        if node.id in finishing or node.id not in reached:
            continue
        dead_end = not node.outgoing and node.kind != "endEvent" and node.kind not in ("subProcess", "transaction")
        message = ("the path stops here without an end event" if dead_end
                   else "no path from here reaches an end event (a case would wait here forever)")
        if dead_end or not any(facts.nodes[s].id in finishing for s in facts.successors(node.id)):
            problems.append(problem_at(facts.file, node.xml, "no-end", message,
                                       "connect an outgoing flow that leads to an end event"))
    return problems


def _reaching(facts: DiagramFacts, ends: set[str]) -> set[str]:
    """Nodes from which some path reaches one of ``ends`` (a sub-process counts as its own end)."""
    finishing = set(ends)
    changed = True
    while changed:
        changed = False
        for node in facts.nodes.values():
            if node.id in finishing:
                continue
            if any(s in finishing for s in facts.successors(node.id)) or (
                    node.kind in ("subProcess", "transaction") and not node.outgoing):
                finishing.add(node.id)
                changed = True
    return finishing


def camunda_problems(facts: DiagramFacts) -> list[Problem]:
    """Camunda's (and Zeebe's) attributes and elements, which this engine ignores."""
    problems = []
    for node in facts.root.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in node.attrib:
            namespace = etree.QName(attribute).namespace
            if namespace in (CAMUNDA_NS, _ZEEBE_NS):
                problems.append(problem_at(
                    facts.file, node, "camunda", f"camunda:{etree.QName(attribute).localname} is ignored here",
                    _camunda_hint(etree.QName(attribute).localname), severity=WARNING))
        parent = node.getparent()
        if etree.QName(node).namespace in (CAMUNDA_NS, _ZEEBE_NS) and not (
                parent is not None and etree.QName(parent).namespace in (CAMUNDA_NS, _ZEEBE_NS)):
            problems.append(problem_at(
                facts.file, parent, "camunda", f"camunda:{local(node.tag)} is ignored here",
                _camunda_hint(local(node.tag)), severity=WARNING))
    return problems


def _camunda_hint(name: str) -> str:
    if name in ("candidateGroups", "candidateUsers", "assignee"):
        return "who does a task is its lane (the lane's id is the role); remove the Camunda attribute"
    if name in ("formKey", "formField", "formData"):
        return "a task's form is forms/<process>/<task>.schema.json; remove the Camunda attribute"
    return "use the SpiffWorkflow extensions (spiffworkflow:…) or remove it"

