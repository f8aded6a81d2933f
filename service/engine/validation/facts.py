"""What the checks need to know of one diagram, read from its XML (lxml only, no SpiffWorkflow).

Reading never stops at the first oddity: a flow pointing nowhere is kept (the structure check
reports it), a lane naming a missing element is skipped. The graph joins sequence flows, a task
to its boundary events and a sub-process to its start events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
B = f"{{{BPMN_NS}}}"
S = f"{{{SPIFF_NS}}}"

ACTIVITIES = frozenset({
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction",
})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
                      "complexGateway"})
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
#: Tasks a person does: each must be in a lane a person can hold.
PEOPLES_TASKS = frozenset({"userTask", "manualTask"})


def local(tag: Any) -> str:
    """The local name of an lxml tag (comments and processing instructions have none)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def line_of(node: Any) -> int | None:
    """The source line of an lxml element."""
    return getattr(node, "sourceline", None)


@dataclass
class Node:
    """A flow node: event, task or gateway."""

    id: str
    kind: str
    name: str
    line: int | None
    xml: Any = field(repr=False)
    lane: str | None = None
    parent: str | None = None  # the sub-process it lies in, if any
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)


@dataclass
class Flow:
    """A sequence flow, with its condition if it has one."""

    id: str
    source: str
    target: str
    name: str
    line: int | None
    condition: str | None
    xml: Any = field(repr=False)


@dataclass
class Lane:
    """A lane: its id is the role key."""

    id: str
    name: str
    line: int | None


@dataclass(frozen=True)
class MessageUse:
    """A message thrown or caught by a flow node."""

    name: str
    node_id: str
    line: int | None
    start: bool = False


@dataclass
class DiagramFacts:
    """One diagram file as the checks see it."""

    file: str
    root: Any = field(repr=False)
    process: Any = field(repr=False)
    process_id: str
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    lanes: dict[str, Lane] = field(default_factory=dict)
    caught: list[MessageUse] = field(default_factory=list)
    thrown: list[MessageUse] = field(default_factory=list)
    #: node id → the variable its message payload is stored in.
    message_variables: dict[str, str] = field(default_factory=dict)
    _attached_cache: dict[str, list[str]] | None = field(default=None, repr=False)
    _upstream_cache: dict[str, set[str]] | None = field(default=None, repr=False)

    @property
    def user_tasks(self) -> list[Node]:
        """The user tasks, in document order."""
        return [n for n in self.nodes.values() if n.kind == "userTask"]

    @property
    def start_messages(self) -> list[MessageUse]:
        """Messages a case of this process starts on."""
        return [use for use in self.caught if use.start]

    def successors(self, node_id: str) -> Iterator[str]:
        """Nodes a token goes to next: targets of outgoing flows, boundary events, a sub-process's starts."""
        node = self.nodes.get(node_id)
        if node is None:
            return
        for flow_id in node.outgoing:
            flow = self.flows.get(flow_id)
            if flow is not None and flow.target in self.nodes:
                yield flow.target
        yield from self._attached().get(node_id, ())

    def _attached(self) -> dict[str, list[str]]:
        """node id → its boundary events and, for a sub-process, its start events (computed once)."""
        if self._attached_cache is None:
            attached: dict[str, list[str]] = {}
            for other in self.nodes.values():
                if other.kind == "boundaryEvent" and other.xml.get("attachedToRef"):
                    attached.setdefault(other.xml.get("attachedToRef"), []).append(other.id)
                if other.parent is not None and other.kind == "startEvent":
                    attached.setdefault(other.parent, []).append(other.id)
            self._attached_cache = attached
        return self._attached_cache

    def reachable_from(self, starts: Iterable[str]) -> set[str]:
        """Every node a token can reach from ``starts`` (the starts included)."""
        seen = set(starts)
        queue = deque(seen)
        while queue:
            for nxt in self.successors(queue.popleft()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    def upstream(self) -> dict[str, set[str]]:
        """node id → the nodes a token passes before reaching it (itself only if it lies on a loop)."""
        if self._upstream_cache is None:
            before: dict[str, set[str]] = {node_id: set() for node_id in self.nodes}
            for node_id in self.nodes:
                for reached in self.reachable_from(self.successors(node_id)):
                    before.setdefault(reached, set()).add(node_id)
            self._upstream_cache = before
        return self._upstream_cache


def _flow_nodes(process: Any) -> Iterator[tuple[Any, str | None]]:
    """(element, id of the sub-process it lies in) for every flow node of the process."""
    def walk(container: Any, parent: str | None) -> Iterator[tuple[Any, str | None]]:
        for child in container:
            kind = local(child.tag)
            if kind in FLOW_NODES:
                yield child, parent
                if kind in ("subProcess", "transaction"):
                    yield from walk(child, child.get("id"))
    return walk(process, None)


def read_facts(file: str, root: Any, process: Any) -> DiagramFacts:
    """The facts of one diagram's executable process."""
    facts = DiagramFacts(file=file, root=root, process=process, process_id=process.get("id") or "")
    for element, parent in _flow_nodes(process):
        node_id = element.get("id") or ""
        facts.nodes[node_id] = Node(node_id, local(element.tag), (element.get("name") or "").strip(),
                                    line_of(element), element, parent=parent)
    for element in process.iter(f"{B}sequenceFlow"):
        condition = element.find(f"{B}conditionExpression")
        facts.flows[element.get("id") or ""] = Flow(
            element.get("id") or "", element.get("sourceRef") or "", element.get("targetRef") or "",
            (element.get("name") or "").strip(), line_of(element),
            None if condition is None else (condition.text or ""), element)
    for flow in facts.flows.values():
        if flow.source in facts.nodes:
            facts.nodes[flow.source].outgoing.append(flow.id)
        if flow.target in facts.nodes:
            facts.nodes[flow.target].incoming.append(flow.id)
    for lane in process.iter(f"{B}lane"):
        lane_id = lane.get("id") or ""
        facts.lanes[lane_id] = Lane(lane_id, (lane.get("name") or lane_id).strip(), line_of(lane))
        for ref in lane.findall(f"{B}flowNodeRef"):
            node = facts.nodes.get((ref.text or "").strip())
            if node is not None and not _has_child_lanes(lane):
                node.lane = lane_id
    _read_messages(facts)
    return facts


def _has_child_lanes(lane: Any) -> bool:
    return lane.find(f"{B}childLaneSet/{B}lane") is not None


def message_names(root: Any) -> dict[str, str]:
    """bpmn:message id → its name (the id when it has no name)."""
    return {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{B}message")}


def _read_messages(facts: DiagramFacts) -> None:
    names = message_names(facts.root)
    for node in facts.nodes.values():
        definitions = node.xml.findall(f"{B}messageEventDefinition")
        refs = [d.get("messageRef") for d in definitions]
        if node.kind in ("sendTask", "receiveTask"):
            refs = [node.xml.get("messageRef")]
        for definition in definitions:
            variable = definition.find(f"{B}extensionElements/{S}messageVariable")
            if variable is not None and (variable.text or "").strip():
                facts.message_variables[node.id] = (variable.text or "").strip()
        for ref in refs:
            name = names.get(ref) if ref else None
            if name is None:
                continue
            if node.kind in ("intermediateThrowEvent", "endEvent", "sendTask"):
                facts.thrown.append(MessageUse(name, node.id, node.line))
            else:
                facts.caught.append(MessageUse(name, node.id, node.line,
                                               start=node.kind == "startEvent" and node.parent is None))
