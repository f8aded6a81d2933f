"""The shipped diagrams as bpmn-js itself lays them out (issue 12 point 7): imported without warnings,
no label crossed by a sequence flow, no shapes or labels on top of each other, nothing outside its pool.

The layout checks of ``homeschool validate`` estimate label sizes from the font; here bpmn-js's
Viewer (from node_modules, as the app serves it) measures the text in chromium, so the two agree or
this test says where they do not.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from playwright.sync_api import Browser

from service.engine.layout import Rect, segment_crosses

from ..support import PROJECT

VIEWER = PROJECT / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.development.js"
SHIPPED = sorted((PROJECT / "processes").glob("*.bpmn"))

#: What bpmn-js drew: shapes (not pools or lanes), labels with text, and sequence flows' waypoints.
READ_LAYOUT = """async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  const { warnings } = await viewer.importXML(xml);
  const registry = viewer.get('elementRegistry');
  const box = (e) => [e.x, e.y, e.width, e.height];
  const containers = ['bpmn:Participant', 'bpmn:Lane'];
  return {
    warnings: warnings.map((w) => w.message),
    pools: registry.filter((e) => e.type === 'bpmn:Participant').map((e) => box(e)),
    shapes: registry.filter((e) => !e.waypoints && e.type !== 'label' && !containers.includes(e.type)
                              && e.parent).map((e) => [e.id, e.host ? e.host.id : null, box(e)]),
    labels: registry.filter((e) => e.type === 'label' && !e.hidden && (e.businessObject.name || '').trim())
                    .map((e) => [e.labelTarget.id, box(e)]),
    flows: registry.filter((e) => e.type === 'bpmn:SequenceFlow')
                   .map((e) => [e.id, e.waypoints.map((p) => [p.x, p.y])]),
  };
}"""


@pytest.fixture(scope="module")
def layouts(chromium: Browser) -> dict[str, dict[str, Any]]:
    """Each shipped diagram's layout as bpmn-js made it."""
    if not VIEWER.is_file():
        pytest.skip("bpmn-js is not installed: run 'make setup'")
    found = {}
    page = chromium.new_page()
    try:
        for path in SHIPPED:
            page.set_content("<div id='canvas' style='width:1200px;height:800px'></div>")
            page.add_script_tag(path=str(VIEWER))
            found[path.name] = page.evaluate(READ_LAYOUT, path.read_text(encoding="utf-8"))
    finally:
        page.close()
    return found


def layout_problems(layout: dict[str, Any]) -> list[str]:
    """What is wrong with a layout bpmn-js made: overlaps, crossed labels, things outside the pool."""
    shapes = {i: (host, Rect(*b)) for i, host, b in layout["shapes"]}
    labels = {i: Rect(*b) for i, b in layout["labels"]}
    flows = {i: [tuple(p) for p in points] for i, points in layout["flows"]}
    [pool] = [Rect(*b) for b in layout["pools"]]
    problems = []
    for (a, (host_a, box_a)), (b, (host_b, box_b)) in combinations(shapes.items(), 2):
        if host_a != b and host_b != a and box_a.overlaps(box_b):
            problems.append(f"shapes {a} and {b} overlap")
    for a, b in combinations(labels, 2):
        if labels[a].overlaps(labels[b]):
            problems.append(f"labels of {a} and {b} overlap")
    for owner, label in labels.items():
        problems += [f"label of {owner} lies over {shape}" for shape, (_, box) in shapes.items()
                     if label.overlaps(box)]
        problems += [f"label of {owner} is crossed by {flow}" for flow, points in flows.items()
                     if any(segment_crosses(p, q, label) for p, q in zip(points, points[1:], strict=False))]
        if not pool.contains(label):
            problems.append(f"label of {owner} is outside the pool")
    problems += [f"{shape} is outside the pool" for shape, (_, box) in shapes.items() if not pool.contains(box)]
    return problems


@pytest.mark.parametrize("name", [path.name for path in SHIPPED])
def test_bpmn_js_draws_the_shipped_diagram_cleanly(layouts: dict[str, dict[str, Any]], name: str) -> None:
    layout = layouts[name]
    assert layout["warnings"] == []
    assert len(layout["labels"]) > 30 and len(layout["flows"]) > 40  # the whole diagram was read
    assert layout_problems(layout) == []
