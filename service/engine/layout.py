"""Layout checks on a diagram's drawing (BPMN DI), as bpmn-js will draw it.

An analyst reads the diagram, so a label crossed by a flow, two shapes on top of each other, a
label hidden under a task or an element drawn outside its pool misleads as surely as a wrong
condition. Labels without their own bounds in the file are placed the way bpmn-js places them
(below an event or gateway; beside the middle of a flow), their size estimated from the text in
bpmn-js's label font (Arial 11px, 90px wide, lines of 13.2px). Every finding is a warning naming
the element(s); an element without any drawing is an error (bpmn-js cannot show it at all).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from service.domain.problems import ERROR, WARNING, Problem, Severity

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
_ACTIVITIES = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction",
}
_DATA = {"dataObjectReference", "dataStoreReference"}
#: Elements bpmn-js draws with their name outside the shape.
_EXTERNAL_LABEL = _EVENTS | _GATEWAYS | _DATA | {"sequenceFlow"}
#: bpmn-js's external labels: font size, line height, the width text wraps at, a flow label's offset.
_FONT_PX = 11.0
_LINE_PX = _FONT_PX * 1.2
_LABEL_WIDTH = 90.0
_FLOW_LABEL_INDENT = 15.0
#: Overlaps and crossings smaller than this (px) are rounding, not a problem.
_SLACK = 1.0
#: Advance widths (in em) of Arial, the label font; Liberation Sans has the same metrics.
_WIDTHS = {
    char: em
    for chars, em in (
        ("'", 0.19), ("ijlі", 0.22), ("|", 0.26), ("ftI .,;:![]/І", 0.28), ("r()-", 0.33), ('"', 0.35),
        ("г", 0.36), ("к", 0.44), ("зт", 0.46), ("сухcksvxyzJ", 0.5), ("э", 0.51), ("чь", 0.52), ("в", 0.53),
        ("пяГ", 0.54), ("н", 0.55), ("бц", 0.57), ("длК", 0.58), ("З", 0.6), ("ТFTZ", 0.61), ("ъ", 0.62),
        ("У", 0.64), ("БЛЬ", 0.66), ("жАВЕЁРХЧABEKPSVXY", 0.67), ("Д", 0.68), ("м", 0.69),
        ("ыИЙНПСЭЯwCDHNRU", 0.72), ("Ц", 0.74), ("ю", 0.75), ("Ф", 0.76), ("ОGOQ", 0.78), ("Ъ", 0.79),
        ("ш", 0.8), ("фщ", 0.82), ("МmM", 0.83), ("Ы", 0.89), ("ЖШ", 0.92), ("ЩW", 0.94), ("—", 1.0), ("Ю", 1.01),
    )
    for char in chars
}


@dataclass(frozen=True)
class Rect:
    """An axis-aligned box in diagram coordinates."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """The y of the bottom edge."""
        return self.y + self.height

    def center(self) -> tuple[float, float]:
        """The middle point."""
        return self.x + self.width / 2, self.y + self.height / 2

    def overlaps(self, other: Rect) -> bool:
        """Whether the two boxes share more than a hairline."""
        return (min(self.right, other.right) - max(self.x, other.x) > _SLACK
                and min(self.bottom, other.bottom) - max(self.y, other.y) > _SLACK)

    def contains(self, other: Rect) -> bool:
        """Whether ``other`` lies inside this box (give or take a hairline)."""
        return (other.x >= self.x - _SLACK and other.y >= self.y - _SLACK
                and other.right <= self.right + _SLACK and other.bottom <= self.bottom + _SLACK)

    def contains_point(self, x: float, y: float) -> bool:
        """Whether the point lies inside this box (give or take a hairline)."""
        return self.x - _SLACK <= x <= self.right + _SLACK and self.y - _SLACK <= y <= self.bottom + _SLACK

    def shrunk(self, by: float) -> Rect:
        """The same box with ``by`` taken off every side."""
        return Rect(self.x + by, self.y + by, max(self.width - 2 * by, 0), max(self.height - 2 * by, 0))


Point = tuple[float, float]


def segment_crosses(a: Point, b: Point, box: Rect) -> bool:
    """Whether the segment a→b passes through the inside of ``box`` (Liang–Barsky clipping)."""
    inner = box.shrunk(_SLACK)
    if inner.width <= 0 or inner.height <= 0:
        return False
    dx, dy = b[0] - a[0], b[1] - a[1]
    low, high = 0.0, 1.0
    for p, q in ((-dx, a[0] - inner.x), (dx, inner.right - a[0]), (-dy, a[1] - inner.y), (dy, inner.bottom - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def text_width(text: str) -> float:
    """An estimate of ``text``'s width in bpmn-js's label font (Arial 11px)."""
    em = sum(_WIDTHS.get(char, 0.7 if char.isupper() else 0.56) for char in text)
    return em * _FONT_PX


def wrap(text: str, width: float = _LABEL_WIDTH) -> list[str]:
    """Break a label into lines the way bpmn-js does: whole words while they fit, long words cut."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word) > width:  # a word longer than the box is cut
                cut = len(word)
                while cut > 1 and text_width(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def label_size(text: str, width: float = _LABEL_WIDTH) -> tuple[float, float]:
    """(width, height) of a label as bpmn-js lays it out in a box ``width`` wide."""
    lines = wrap(text, width)
    return max(text_width(line) for line in lines), len(lines) * _LINE_PX


@dataclass(frozen=True)
class Drawn:
    """One semantic element and its drawing."""

    element_id: str
    kind: str
    name: str
    line: int | None
    process_id: str | None
    bounds: Rect | None = None
    waypoints: tuple[Point, ...] = ()
    label: Rect | None = None
    host: str | None = None
    lane: str | None = None
    #: The plane it is drawn on (a collapsed sub-process's content has a plane of its own).
    plane: str = ""

    @property
    def is_edge(self) -> bool:
        """Whether this is a flow (drawn as waypoints) rather than a shape."""
        return self.kind == "sequenceFlow"


def _local(node: Any) -> str:
    return etree.QName(node.tag).localname if isinstance(node.tag, str) else ""


def _bounds(node: Any) -> Rect | None:
    box = node.find(f"{{{DC_NS}}}Bounds")
    if box is None:
        return None
    try:
        return Rect(*(float(box.get(key, "nan")) for key in ("x", "y", "width", "height")))
    except ValueError:
        return None


def _flow_label_mid(points: tuple[Point, ...]) -> Point:
    """Where bpmn-js puts a flow's label: beside the middle of its middle segment."""
    mid = len(points) / 2 - 1
    first, second = points[math.floor(mid)], points[math.ceil(mid + 0.01)]
    x, y = first[0] + (second[0] - first[0]) / 2, first[1] + (second[1] - first[1]) / 2
    if second[0] != first[0]:  # any slope but vertical: above the segment
        return x, y - _FLOW_LABEL_INDENT
    return x + _FLOW_LABEL_INDENT, y


def _label_box(kind: str, name: str, bounds: Rect | None, points: tuple[Point, ...],
               di_label: Rect | None) -> Rect | None:
    """The box bpmn-js draws the element's external label in, or None if it has none."""
    if kind not in _EXTERNAL_LABEL or not name.strip():
        return None
    if di_label is not None and di_label.width > 0:
        _, height = label_size(name, di_label.width)
        return Rect(di_label.x, di_label.y, di_label.width, math.ceil(height))
    if points and len(points) >= 2:
        mid_x, mid_y = _flow_label_mid(points)
    elif bounds is not None:
        mid_x, mid_y = bounds.x + bounds.width / 2, bounds.bottom + 10
    else:
        return None
    width, height = label_size(name)
    return Rect(round(mid_x - width / 2), mid_y - 10, math.ceil(width), math.ceil(height))


def _drawings(root: Any) -> dict[str, Any]:
    tags = (f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge")
    return {node.get("bpmnElement"): node for node in root.iter(*tags)}


def _semantic(root: Any) -> Iterator[tuple[Any, str | None, str | None]]:
    """(element, its process id, its lane id) for everything that should be drawn."""
    for participant in root.iter(f"{{{BPMN_NS}}}participant"):
        yield participant, participant.get("processRef"), None
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        lanes = {}
        for lane in process.iter(f"{{{BPMN_NS}}}lane"):
            yield lane, process.get("id"), None
            for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
                lanes[(ref.text or "").strip()] = lane.get("id")
        for node in process.iter():
            kind = _local(node)
            if kind in _EVENTS | _GATEWAYS | _ACTIVITIES | _DATA or kind == "sequenceFlow":
                yield node, process.get("id"), lanes.get(node.get("id"))


def drawn_elements(root: Any) -> tuple[list[Drawn], list[Drawn]]:
    """(elements with a drawing, elements without one), read from a parsed diagram."""
    drawings = _drawings(root)
    drawn: list[Drawn] = []
    missing: list[Drawn] = []
    for node, process_id, lane in _semantic(root):
        kind = _local(node)
        element_id = node.get("id") or ""
        name = (node.get("name") or "").strip()
        di = drawings.get(element_id)
        base = Drawn(element_id, kind, name, node.sourceline, process_id, lane=lane, host=node.get("attachedToRef"))
        if di is None:
            missing.append(base)
            continue
        points = tuple(
            (float(p.get("x", "0")), float(p.get("y", "0"))) for p in di.findall(f"{{{DI_NS}}}waypoint")
        )
        bounds = None if points else _bounds(di)
        label_node = di.find(f"{{{BPMNDI_NS}}}BPMNLabel")
        di_label = _bounds(label_node) if label_node is not None else None
        parent = di.getparent()
        drawn.append(Drawn(
            element_id, kind, name, node.sourceline, process_id, bounds=bounds, waypoints=points,
            label=_label_box(kind, name, bounds, points, di_label), host=base.host, lane=lane,
            plane=(parent.get("bpmnElement") or parent.get("id") or "") if parent is not None else "",
        ))
    return drawn, missing


def _finding(file: str, element: Drawn, message: str, kind: str, hint: str, severity: Severity = WARNING) -> Problem:
    return Problem(file=file, message=message, kind=kind, severity=severity, element_id=element.element_id,
                   element_name=element.name or None, line=element.line, hint=hint)


def _who(element: Drawn) -> str:
    return f"'{element.element_id}'" + (f" ({element.name})" if element.name else "")


def _is_container(kind: str) -> bool:
    return kind in ("participant", "lane", "subProcess", "transaction")


def check_layout(root: Any, file: str) -> list[Problem]:
    """Every layout problem of one parsed diagram: missing drawings, overlaps, crossings, strays."""
    drawn, missing = drawn_elements(root)
    findings = [
        _finding(file, element, "has no drawing (no BPMN DI shape or edge), so the modeler cannot show it",
                 "layout-no-di", "draw it in the modeler (or add its bpmndi element) and save", ERROR)
        for element in missing
    ]
    for plane in dict.fromkeys(e.plane for e in drawn):  # what is drawn on one plane is seen together
        here = [e for e in drawn if e.plane == plane]
        shapes = [e for e in here if e.bounds is not None and e.kind not in ("participant", "lane")]
        labels = [e for e in here if e.label is not None]
        edges = [e for e in here if e.is_edge and len(e.waypoints) >= 2]
        findings += _overlapping_shapes(file, shapes)
        findings += _overlapping_labels(file, labels, shapes)
        findings += _crossed_labels(file, labels, edges)
    findings += _outside_pool(file, drawn)
    return findings


def _overlapping_shapes(file: str, shapes: list[Drawn]) -> list[Problem]:
    found = []
    for i, one in enumerate(shapes):
        for other in shapes[i + 1:]:
            assert one.bounds is not None and other.bounds is not None
            if one.host == other.element_id or other.host == one.element_id:
                continue  # a boundary event sits on its task's border by design
            if _is_container(one.kind) and one.bounds.contains(other.bounds):
                continue
            if _is_container(other.kind) and other.bounds.contains(one.bounds):
                continue
            if one.bounds.overlaps(other.bounds):
                found.append(_finding(file, one, f"is drawn on top of {_who(other)}", "layout-overlap",
                                      "move one of them so that both can be seen"))
    return found


def _overlapping_labels(file: str, labels: list[Drawn], shapes: list[Drawn]) -> list[Problem]:
    found = []
    for i, one in enumerate(labels):
        assert one.label is not None
        for other in labels[i + 1:]:
            assert other.label is not None
            if one.label.overlaps(other.label):
                found.append(_finding(file, one, f"its label overlaps the label of {_who(other)}",
                                      "layout-label-overlap", "move one of the labels"))
        for shape in shapes:
            assert shape.bounds is not None
            if _is_container(shape.kind) or (shape.element_id == one.element_id and one.is_edge):
                continue
            if one.label.overlaps(shape.bounds):
                whom = "its own shape" if shape.element_id == one.element_id else _who(shape)
                found.append(_finding(file, one, f"its label lies over {whom} and is hidden by it",
                                      "layout-label-hidden", "move the label off the shape"))
    return found


def _crossed_labels(file: str, labels: list[Drawn], edges: list[Drawn]) -> list[Problem]:
    found = []
    for element in labels:
        assert element.label is not None
        for edge in edges:
            segments = zip(edge.waypoints, edge.waypoints[1:], strict=False)
            if any(segment_crosses(a, b, element.label) for a, b in segments):
                whose = "its own flow" if edge.element_id == element.element_id else f"flow {_who(edge)}"
                found.append(_finding(file, element, f"its label is crossed by {whose}", "layout-label-crossed",
                                      "move the label (or the flow's bend points) so that no line runs through it"))
    return found


def _outside_pool(file: str, drawn: list[Drawn]) -> list[Problem]:
    pools = {e.process_id: e for e in drawn if e.kind == "participant" and e.bounds is not None}
    lanes = {e.element_id: e.bounds for e in drawn if e.kind == "lane" and e.bounds is not None}
    found = []
    for element in drawn:
        if element.kind in ("participant", "lane"):
            continue
        drawn_pool = pools.get(element.process_id)
        pool = drawn_pool.bounds if drawn_pool is not None and drawn_pool.plane == element.plane else None
        if pool is not None:
            parts = [element.bounds] if element.bounds is not None else []
            parts += [Rect(x, y, 0, 0) for x, y in element.waypoints]
            if element.label is not None:
                parts.append(element.label)
            if not all(pool.contains(part) for part in parts):
                found.append(_finding(file, element, "is drawn (or labelled) outside its pool", "layout-outside-pool",
                                      "move it inside the pool, or make the pool larger"))
                continue
        lane = lanes.get(element.lane or "") if pool is not None else None
        if lane is not None and element.bounds is not None and not lane.contains_point(*element.bounds.center()):
            found.append(_finding(file, element, f"belongs to lane '{element.lane}' but is drawn in another",
                                  "layout-outside-lane", "move it into its lane, or into that lane's list"))
    return found
