"""Comparing two versions of a diagram element by element: what was added, removed or changed.

Each element (flow node or sequence flow) is described by a few facts read from the XML — its
name, type, lane, condition, timer, message, script, stage, where a flow goes, a gateway's default
— and two versions differ where an element's facts differ. Used by the analysts' versions page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .library import BPMN_NS, Diagram

_DEFINITIONS = {"timerEventDefinition": "timer", "messageEventDefinition": "message",
                "signalEventDefinition": "signal", "errorEventDefinition": "error",
                "escalationEventDefinition": "escalation", "conditionalEventDefinition": "condition"}


@dataclass(frozen=True)
class ElementChange:
    """One element that differs between two versions, and in which facts."""

    element_id: str
    name: str
    kind: str
    #: "added", "removed" or "changed"
    change: str
    #: For a changed element: fact → (old, new), e.g. {"condition": ("approved", "approved == True")}.
    facts: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DiagramDiff:
    """The elements two versions of one diagram differ in."""

    added: tuple[ElementChange, ...]
    removed: tuple[ElementChange, ...]
    changed: tuple[ElementChange, ...]

    @property
    def empty(self) -> bool:
        """Whether the two versions have the same elements with the same facts."""
        return not (self.added or self.removed or self.changed)

    def marks(self, side: str) -> dict[str, str]:
        """element id → CSS class for drawing one side: ``old`` shows removed and changed, ``new`` added and changed."""
        shown = self.removed if side == "old" else self.added
        marks = {change.element_id: change.change for change in shown}
        marks.update({change.element_id: "changed" for change in self.changed})
        return marks


def _text(node: Any) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def _messages(root: Any) -> dict[str, str]:
    return {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN_NS}}}message")}


def element_facts(diagram: Diagram) -> dict[str, dict[str, str]]:
    """element id → its facts (only facts with a value), for every element the product knows of."""
    root = etree.fromstring(diagram.source, etree.XMLParser(resolve_entities=False, no_network=True))
    messages = _messages(root)
    nodes = {node.get("id"): node for node in root.iter() if isinstance(node.tag, str) and node.get("id")}
    facts: dict[str, dict[str, str]] = {}
    for element_id, info in diagram.elements.items():
        node = nodes.get(element_id)
        found = {"name": info.name, "type": info.kind, "lane": info.lane_name or "", "stage": info.stage or ""}
        if node is not None:
            found.update(_node_facts(node, messages))
        facts[element_id] = {key: value for key, value in found.items() if value}
    return facts


def _node_facts(node: Any, messages: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    found["condition"] = _text(node.find(f"{{{BPMN_NS}}}conditionExpression"))
    if node.get("sourceRef"):
        found["flow"] = f"{node.get('sourceRef')} → {node.get('targetRef')}"
    found["default"] = node.get("default") or ""
    found["attached to"] = node.get("attachedToRef") or ""
    if node.get("cancelActivity") == "false":
        found["interrupting"] = "no"
    found["script"] = _text(node.find(f"{{{BPMN_NS}}}script"))
    if node.get("messageRef"):
        found["message"] = messages.get(node.get("messageRef"), node.get("messageRef"))
    for child in node:
        kind = _DEFINITIONS.get(etree.QName(child).localname) if isinstance(child.tag, str) else None
        if kind == "timer":
            found["timer"] = " ".join(f"{etree.QName(part).localname}: {_text(part)}" for part in child
                                      if isinstance(part.tag, str))
        elif kind == "message":
            found["message"] = messages.get(child.get("messageRef"), child.get("messageRef") or "")
        elif kind:
            found["event"] = kind
    return found


def diff_diagrams(old: Diagram, new: Diagram) -> DiagramDiff:
    """The elements ``new`` adds, removes and changes compared with ``old``."""
    before, after = element_facts(old), element_facts(new)

    def summary(facts: Mapping[str, str], element_id: str, change: str) -> ElementChange:
        return ElementChange(element_id, facts.get("name", element_id), facts.get("type", ""), change)

    added = tuple(summary(after[e], e, "added") for e in sorted(set(after) - set(before)))
    removed = tuple(summary(before[e], e, "removed") for e in sorted(set(before) - set(after)))
    changed = []
    for element_id in sorted(set(before) & set(after)):
        old_facts, new_facts = before[element_id], after[element_id]
        differing = {key: (old_facts.get(key, ""), new_facts.get(key, ""))
                     for key in sorted(set(old_facts) | set(new_facts)) if old_facts.get(key) != new_facts.get(key)}
        if differing:
            changed.append(ElementChange(element_id, new_facts.get("name", element_id), new_facts.get("type", ""),
                                         "changed", differing))
    return DiagramDiff(added, removed, tuple(changed))
