"""Drawing a diagram from its own layout (BPMN DI) as SVG, with elements marked by state.

The case page shows where a case stands without a JavaScript modeler: shapes and edges come
from the diagram's ``bpmndi`` section; each element can be marked ``completed``, ``active``,
``overdue`` or ``cited`` (it carries an obligation of the Rules) as CSS classes, and every shape
carries its element id for tests and tooltips.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from .library import BPMN_NS

DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
OMG_DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

STYLE = """
.lane rect { fill: #fafafa; stroke: #b0b0b0; }
.lane text, .pool text { font: 13px sans-serif; fill: #444; }
.pool rect { fill: none; stroke: #808080; }
.node rect, .node circle, .node polygon { fill: #fff; stroke: #333; stroke-width: 1.5; }
.node text { font: 11px sans-serif; fill: #222; }
.node.completed rect, .node.completed circle, .node.completed polygon { fill: #e3f2e6; stroke: #2e7d32; }
.node.active rect, .node.active circle, .node.active polygon { fill: #e3edfb; stroke: #1565c0; stroke-width: 3; }
.node.overdue rect, .node.overdue circle, .node.overdue polygon { fill: #fdecea; stroke: #c62828; stroke-width: 3; }
.node.cited rect, .node.cited circle, .node.cited polygon { fill: #fff3c4; stroke: #b26a00; stroke-width: 3.5; }
.node.added rect, .node.added circle, .node.added polygon { fill: #e3f2e6; stroke: #2e7d32; stroke-width: 3.5; }
.node.removed rect, .node.removed circle, .node.removed polygon { fill: #fdecea; stroke: #c62828; stroke-width: 3.5;
  stroke-dasharray: 6 3; }
.node.changed rect, .node.changed circle, .node.changed polygon { fill: #fff3c4; stroke: #b26a00; stroke-width: 3.5; }
.edge { fill: none; stroke: #555; stroke-width: 1.2; marker-end: url(#arrow); }
.edge.added { stroke: #2e7d32; stroke-width: 3; }
.edge.removed { stroke: #c62828; stroke-width: 3; stroke-dasharray: 6 3; }
.edge.changed { stroke: #b26a00; stroke-width: 3; }
.edge.completed { stroke: #2e7d32; }
.edge.cited { stroke: #b26a00; stroke-width: 3; }
.mark-line { fill: none; stroke: #333; stroke-width: 1.2; }
.node.endEvent circle { stroke-width: 3; }
.node .inner { fill: none; }
#arrow path { fill: #555; }
"""

_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
_DATA = {"dataObjectReference", "dataStoreReference"}


def _wrap(text: str, width: int) -> list[str]:
    """Break a label into lines of about ``width`` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:5]


def _label(x: float, y: float, text: str, width: int) -> str:
    lines = _wrap(text, width)
    top = y - (len(lines) - 1) * 6.5
    spans = "".join(
        f'<tspan x="{x:.0f}" y="{top + i * 13:.0f}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text text-anchor="middle" dominant-baseline="middle">{spans}</text>'


def render_svg(source: bytes, marks: Mapping[str, str] | None = None, standalone: bool = True) -> str:
    """An SVG of the diagram; ``marks`` maps element ids to ``completed``/``active``/``overdue``/``cited``
    (or, comparing two versions, ``added``/``removed``/``changed``).

    ``standalone`` embeds the styles; a page with a strict Content-Security-Policy passes False
    and styles the ``bpmn-*`` classes from its own stylesheet (see :data:`STYLE`).
    """
    marks = marks or {}
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    elements = {node.get("id"): node for node in root.iter() if node.get("id")}
    parts: list[str] = []
    right = bottom = 0.0
    left = top = float("inf")
    for shape in root.iter(f"{{{DI_NS}}}BPMNShape"):
        bounds = shape.find(f"{{{DC_NS}}}Bounds")
        element = elements.get(shape.get("bpmnElement"))
        if bounds is None or element is None:
            continue
        x, y, w, h = (float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))
        right, bottom = max(right, x + w), max(bottom, y + h)
        left, top = min(left, x), min(top, y)
        parts.append(_shape(element, x, y, w, h, marks.get(element.get("id"), ""), _label_bounds(shape)))
    for edge in root.iter(f"{{{DI_NS}}}BPMNEdge"):
        points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.findall(f"{{{OMG_DI_NS}}}waypoint")]
        if len(points) < 2:
            continue
        path = " ".join(f"{px:.0f},{py:.0f}" for px, py in points)
        element_id = edge.get("bpmnElement") or ""
        css = f"edge {marks.get(element_id, '')}".strip()
        parts.append(f'<polyline class="{css}" data-element-id={quoteattr(element_id)} points="{path}"/>')
    if left == float("inf"):
        left = top = 0.0
    x0, y0 = max(0.0, left - 10), max(0.0, top - 30)
    width, height = right + 20 - x0, bottom + 20 - y0
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.0f} {y0:.0f} {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" class="bpmn">'
        + (f"<style>{STYLE}</style>" if standalone else "") +
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>'
    )
    return header + "".join(parts) + "</svg>"


def _label_bounds(shape: etree._Element) -> tuple[float, float, float, float] | None:
    """(x, y, width, height) of the shape's label as the diagram places it (``bpmndi:BPMNLabel``), if it does."""
    bounds = shape.find(f"{{{DI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds")
    if bounds is None:
        return None
    try:
        x, y, w, h = (float(bounds.get(k, "")) for k in ("x", "y", "width", "height"))
    except ValueError:
        return None
    return (x, y, w, h) if w > 0 else None


def _shape(element: etree._Element, x: float, y: float, w: float, h: float, mark: str,
           placed: tuple[float, float, float, float] | None = None) -> str:
    kind = etree.QName(element).localname
    name = element.get("name") or ""
    element_id = element.get("id") or ""
    attrs = f'data-element-id={quoteattr(element_id)}'
    title = f"<title>{escape(name or element_id)}</title>"
    if kind in ("participant", "lane"):
        css = "pool" if kind == "participant" else "lane"
        label_x, label_y = x + 14, y + h / 2
        text = (f'<text transform="rotate(-90 {label_x:.0f} {label_y:.0f})" x="{label_x:.0f}" y="{label_y:.0f}" '
                f'text-anchor="middle">{escape(name)}</text>') if kind == "lane" else ""
        return f'<g class="{css}" {attrs}><rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}"/>{text}</g>'
    css = f"node {kind} {mark}".strip()
    cx, cy = x + w / 2, y + h / 2
    if kind in _EVENTS:
        body = f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="{w / 2:.0f}"/>' + _event_marker(element, cx, cy)
        label = _label(cx, y + h + 16, name, 18)
    elif kind in _GATEWAYS:
        points = f"{cx:.0f},{y:.0f} {x + w:.0f},{cy:.0f} {cx:.0f},{y + h:.0f} {x:.0f},{cy:.0f}"
        marker = "X" if kind == "exclusiveGateway" else ("+" if kind == "parallelGateway" else "◇")
        body = (f'<polygon points="{points}"/><text x="{cx:.0f}" y="{cy + 1:.0f}" text-anchor="middle" '
                f'dominant-baseline="middle">{marker}</text>')
        label = _label(cx, y + h + 16, name, 18)  # below, as bpmn-js puts it when the diagram does not say
    elif kind in _DATA:  # a data object or store: a plain box, its name below it as bpmn-js writes it
        body = f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}"/>'
        label = _label(cx, y + h + 16, name, 18)
    else:
        body = f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="8"/>'
        label = _label(cx, cy, name, max(8, int(w / 7)))
    if placed is not None and kind in _EVENTS | _GATEWAYS | _DATA:  # where the diagram puts it, clear of its flows
        lx, ly, lw, lh = placed
        label = _label(lx + lw / 2, ly + lh / 2, name, max(8, int(lw / 6)))
    return f'<g class="{css}" {attrs}>{title}{body}{label}</g>'


def _event_marker(element: etree._Element, cx: float, cy: float) -> str:
    if element.find(f"{{{BPMN_NS}}}timerEventDefinition") is not None:
        return (f'<circle class="inner" cx="{cx:.0f}" cy="{cy:.0f}" r="10"/>'
                f'<path class="mark-line" d="M{cx:.0f},{cy - 7:.0f} L{cx:.0f},{cy:.0f} L{cx + 5:.0f},{cy:.0f}"/>')
    if element.find(f"{{{BPMN_NS}}}messageEventDefinition") is not None:
        return (f'<rect class="inner" x="{cx - 8:.0f}" y="{cy - 5:.0f}" width="16" height="11"/>'
                f'<path class="mark-line" '
                f'd="M{cx - 8:.0f},{cy - 5:.0f} L{cx:.0f},{cy + 1:.0f} L{cx + 8:.0f},{cy - 5:.0f}"/>')
    return ""
