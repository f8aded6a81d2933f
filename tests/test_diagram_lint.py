"""bpmn.io's linter (bpmnlint, recommended rules) and the layout checks, inside ``homeschool validate``.

``tests/lint_diagrams/clean.bpmn`` is a small diagram both find nothing in; each other file there
is that diagram with one mistake, named in its opening comment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from service.application.lint_checks import lint_checks
from service.application.validation import DiagramFile
from service.cli import main
from service.engine.layout import check_layout, drawn_elements, label_size, text_width
from service.engine.lint import lint_diagram, run_bpmnlint
from service.engine.svg import render_svg

from .support import PROJECT

FIXTURES = PROJECT / "tests" / "lint_diagrams"
NODE_MODULES = PROJECT / "node_modules"
CONFIG = PROJECT / ".bpmnlintrc"
SHIPPED = sorted((PROJECT / "processes").glob("*.bpmn"))
CLEAN = (FIXTURES / "clean.bpmn").read_bytes()

needs_bpmnlint = pytest.mark.skipif(not (NODE_MODULES / "bpmnlint").is_dir(), reason="run 'make setup' first")


def layout_of(source: bytes, file: str = "diagram.bpmn") -> list[tuple[str, str | None]]:
    """(kind, element id) of every layout finding."""
    return [(p.kind, p.element_id) for p in check_layout(etree.fromstring(source), file)]


@needs_bpmnlint
def test_bpmnlint_names_the_task_two_flows_enter_without_a_join() -> None:
    path = FIXTURES / "fake_join.bpmn"
    problems = run_bpmnlint([path], NODE_MODULES, CONFIG, {path: "fake_join.bpmn"})
    [fake_join] = [p for p in problems if p.kind == "bpmnlint/fake-join"]
    assert (fake_join.file, fake_join.element_id, fake_join.element_name) == (
        "fake_join.bpmn", "register", "Зарегистрировать")
    assert fake_join.severity == "warning"
    assert fake_join.line == path.read_text(encoding="utf-8").splitlines().index(
        '    <bpmn:userTask id="register" name="Зарегистрировать">') + 1
    assert "joining" in fake_join.hint


@needs_bpmnlint
def test_bpmnlint_errors_are_errors() -> None:
    source = (PROJECT / "tests" / "legacy" / "proactive_offer_v2.bpmn").read_bytes()
    problems = lint_diagram(source, "proactive_offer.bpmn", NODE_MODULES, CONFIG)
    forks = [p for p in problems if p.kind == "bpmnlint/no-gateway-join-fork"]
    assert {p.element_id for p in forks} == {
        "await_delivery", "delivery_outcome", "early_reply_phone", "await_reply", "consent_given"}
    assert all(p.is_error and p.line for p in forks)


@needs_bpmnlint
def test_the_clean_fixture_has_nothing_to_report() -> None:
    assert lint_diagram(CLEAN, "clean.bpmn", NODE_MODULES, CONFIG) == []


@pytest.mark.parametrize(("fixture", "kind", "element"), [
    ("crossed_label.bpmn", "layout-label-crossed", "decision"),
    ("overlap.bpmn", "layout-overlap", "register"),
    ("outside_pool.bpmn", "layout-outside-pool", "done"),
])
def test_the_layout_checks_name_the_element(fixture: str, kind: str, element: str) -> None:
    found = check_layout(etree.parse(str(FIXTURES / fixture)).getroot(), fixture)
    assert (kind, element) in [(p.kind, p.element_id) for p in found]
    assert all(p.severity == "warning" and p.line and p.hint for p in found)


def test_overlapping_labels_and_an_undrawn_element_are_named() -> None:
    # the joining gateway's label moved onto the deciding gateway's
    moved = CLEAN.replace(b'<dc:Bounds x="690" y="100" width="70" height="14"/>',
                          b'<dc:Bounds x="400" y="100" width="70" height="14"/>')
    assert ("layout-label-overlap", "decision") in layout_of(moved)
    undrawn = CLEAN.replace(b'<bpmndi:BPMNShape id="explain_di" bpmnElement="explain">',
                            b'<bpmndi:BPMNShape id="explain_di" bpmnElement="nothing">')
    [missing] = [p for p in check_layout(etree.fromstring(undrawn), "d.bpmn") if p.kind == "layout-no-di"]
    assert (missing.element_id, missing.is_error) == ("explain", True)


SUB_PROCESS = """    <bpmn:subProcess id="sub" name="Уточнить">
      <bpmn:task id="inner" name="Позвонить"/></bpmn:subProcess>
    <bpmn:sequenceFlow id="to_check\""""
SUB_SHAPE = """<bpmndi:BPMNShape id="sub_di" bpmnElement="sub" isExpanded="false">
        <dc:Bounds x="780" y="240" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="done_di\""""
SUB_PLANE = """  </bpmndi:BPMNDiagram>
  <bpmndi:BPMNDiagram id="sub_diagram"><bpmndi:BPMNPlane id="sub_plane" bpmnElement="sub">
    <bpmndi:BPMNShape id="inner_di" bpmnElement="inner"><dc:Bounds x="240" y="120" width="110" height="80"/>
    </bpmndi:BPMNShape></bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>"""


def test_a_collapsed_sub_process_is_drawn_on_a_plane_of_its_own() -> None:
    # bpmn-js draws a collapsed sub-process's content on its own plane, at coordinates of its own
    text = CLEAN.decode()
    text = text.replace('    <bpmn:sequenceFlow id="to_check"', SUB_PROCESS, 1)
    text = text.replace('<bpmndi:BPMNShape id="done_di"', SUB_SHAPE, 1)
    text = text.replace("  </bpmndi:BPMNDiagram>", SUB_PLANE, 1)
    assert text.count("<bpmndi:BPMNPlane") == 2 and 'bpmnElement="inner"' in text
    assert layout_of(text.encode()) == []
    # on the main plane the same box would lie on top of the task 'check'
    moved = text.replace('<dc:Bounds x="780" y="240"', '<dc:Bounds x="240" y="120"')
    assert ("layout-overlap", "check") in layout_of(moved.encode())


def test_a_label_without_bounds_is_placed_as_bpmn_js_places_it() -> None:
    # widths as bpmn-js 18 measured them in chromium: 67px, and 69px by 53px (four lines) for the end event
    assert text_width("Рассмотрено") == pytest.approx(67, abs=2)
    width, height = label_size("Ответ не получен — предложение закрыто")
    assert width == pytest.approx(69, abs=2) and height == pytest.approx(53, abs=1)
    [label] = [d.label for d in drawn_elements(etree.fromstring(CLEAN))[0] if d.element_id == "done"]
    assert label is not None and (label.x, label.y, label.height) == pytest.approx((816, 178, 14), abs=1.5)


@needs_bpmnlint
def test_the_shipped_diagrams_pass_bpmnlint_and_the_layout_checks() -> None:
    names = {path: f"processes/{path.name}" for path in SHIPPED}
    assert [p.describe() for p in run_bpmnlint(SHIPPED, NODE_MODULES, CONFIG, names)] == []
    for path in SHIPPED:
        assert [p.describe() for p in check_layout(etree.parse(str(path)).getroot(), names[path])] == []


def test_without_bpmnlint_installed_one_problem_says_to_run_make_setup(tmp_path: Path) -> None:
    [check] = lint_checks(tmp_path / "node_modules")
    found = [p for name in ("a.bpmn", "b.bpmn") for p in check(DiagramFile(name, CLEAN))]
    [problem] = found  # one for the run, not one per file; the layout checks still ran (and found nothing)
    assert problem.is_error and "make setup" in problem.message and problem.kind == "bpmnlint-unavailable"


@needs_bpmnlint
def test_validate_reports_bpmnlint_and_layout_findings(tmp_path: Path) -> None:
    env = {"HOMESCHOOL_PROCESSES_DIR": str(PROJECT / "processes"), "HOMESCHOOL_FORMS_DIR": str(PROJECT / "forms"),
           "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"), "HOMESCHOOL_NODE_MODULES_DIR": str(NODE_MODULES)}
    result = CliRunner().invoke(main, ["validate", "--json", str(FIXTURES / "fake_join.bpmn"),
                                       str(FIXTURES / "outside_pool.bpmn")], env=env, catch_exceptions=False)
    found = {(p["kind"], p["element_id"], p["severity"]) for p in json.loads(result.stdout)}
    assert ("bpmnlint/fake-join", "register", "warning") in found
    assert ("layout-outside-pool", "done", "warning") in found
    shipped = CliRunner().invoke(main, ["validate", "--json"], env=env, catch_exceptions=False)
    assert shipped.exit_code == 0
    assert [p for p in json.loads(shipped.stdout) if p["kind"].startswith(("bpmnlint", "layout"))] == []


def test_the_products_own_drawing_puts_labels_where_the_diagram_places_them() -> None:
    # the case page's fallback and the legal document draw with service.engine.svg
    svg = etree.fromstring(render_svg(CLEAN).encode())
    ns = {"svg": "http://www.w3.org/2000/svg"}

    def first_line(element_id: str) -> tuple[float, float]:
        [span] = svg.xpath(f"//svg:g[@data-element-id='{element_id}']//svg:tspan[1]", namespaces=ns)
        return float(span.get("x")), float(span.get("y"))

    assert first_line("decision") == (425, 107)  # its BPMNLabel: x 395, y 100, 60 by 14
    assert first_line("done")[1] > 142 + 36  # no BPMNLabel: below the end event, as bpmn-js puts it
    placed = b'<bpmndi:BPMNLabel><dc:Bounds x="395" y="100" width="60" height="14"/></bpmndi:BPMNLabel>'
    assert placed in CLEAN
    label_free = CLEAN.replace(placed, b"")
    svg = etree.fromstring(render_svg(label_free).encode())
    assert first_line("decision")[1] > 135 + 50  # a gateway's label below it too
