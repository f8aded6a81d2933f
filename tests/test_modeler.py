"""The analysts' modeler endpoints: the live version, validation marked by element, diff, deploy gated by features."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from service.application.deployments import deploy_shipped
from service.application.feature_runs import FeatureResult, FeatureRun, candidate_hash
from service.application.modeler import candidate_files, deploy_candidate
from service.bootstrap import Services
from service.domain.errors import InvalidInput, NotPermitted
from service.domain.staff import Actor

from .support import PROJECT
from .test_web import _client, sign_in
from .test_web import product as product  # noqa: F401 - the shipped product with the demo accounts

LIVE = (PROJECT / "processes" / "service_delivery.bpmn").read_text(encoding="utf-8")
#: The analyst removed the default flow of "Пакет полный?" (the refusal path of an incomplete package).
NO_DEFAULT = LIVE.replace(' default="office_incomplete"', "", 1)
RENAMED = LIVE.replace('name="Издать приказ о зачислении"', 'name="Издать приказ о зачислении (ред.)"', 1)
URL = "/modeler/service_delivery"


@pytest.fixture(autouse=True)
def shipped(product: Services) -> None:  # noqa: F811
    """The processes on disk deployed, as 'homeschool serve' does at start-up."""
    settings = product.settings
    deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, product.now())


@pytest.fixture
def web(product: Services) -> Iterator[FlaskClient]:  # noqa: F811
    client = _client(product)
    sign_in(client, "analyst")
    yield client


def _member(product: Services, login: str) -> Actor:  # noqa: F811
    with product.uow(write=False) as uow:
        found = uow.staff.by_login(login)
    assert found is not None
    return found[0]


def test_only_analysts_open_the_modeler(product: Services) -> None:  # noqa: F811
    clerk = _client(product)
    sign_in(clerk, "clerk")
    assert clerk.get(URL).status_code == 403
    assert clerk.get(f"{URL}/live.bpmn").status_code == 403
    assert clerk.post(f"{URL}/validate", json={"xml": LIVE}).status_code == 403
    assert clerk.post(f"{URL}/deploy", json={"xml": RENAMED, "override_reason": "x"}).status_code == 403
    with pytest.raises(NotPermitted):
        deploy_candidate(product.write_uow, product.runtime, actor=_member(product, "clerk"),
                         process_id="service_delivery", xml=RENAMED, run=None, override_reason="because",
                         now=product.now())


def test_the_live_version_opens_and_a_broken_diagram_is_marked_on_its_element(web: FlaskClient) -> None:
    page = web.get(URL)
    assert page.status_code == 200
    assert b"bpmn-modeler.production.min.js" in page.data and b"<script>" not in page.data
    live = web.get(f"{URL}/live.bpmn")
    assert live.status_code == 200 and b'id="service_delivery"' in live.data
    sound = web.post(f"{URL}/validate", json={"xml": live.get_data(as_text=True)}).get_json()
    assert sound["ok"] is True, sound["problems"]
    broken = web.post(f"{URL}/validate", json={"xml": NO_DEFAULT}).get_json()
    assert broken["ok"] is False
    gateway = [p for p in broken["problems"] if p["element_id"] == "office_package_complete"]
    assert gateway and gateway[0]["severity"] == "error" and gateway[0]["element_name"] == "Пакет полный?"
    assert gateway[0]["title"] and gateway[0]["title"] != gateway[0]["kind"]  # what kind of problem, in Russian
    unreadable = web.post(f"{URL}/validate", json={"xml": "<bpmn:definitions"})
    assert unreadable.status_code == 200 and unreadable.get_json()["ok"] is False
    assert web.post(f"{URL}/validate", data="no json").status_code == 422


def test_the_diff_names_what_changed_against_the_live_version(web: FlaskClient) -> None:
    answer = web.post(f"{URL}/diff", json={"xml": RENAMED}).get_json()
    assert [c["element_id"] for c in answer["changed"]] == ["issue_admission_order"]
    assert not answer["added"] and not answer["removed"]
    assert web.post(f"{URL}/diff", json={"xml": "<nonsense"}).status_code == 422


def test_deploying_without_passed_features_needs_a_reason_which_is_logged(
        product: Services, web: FlaskClient) -> None:  # noqa: F811
    refused = web.post(f"{URL}/deploy", json={"xml": RENAMED})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]
    broken = web.post(f"{URL}/deploy", json={"xml": NO_DEFAULT, "override_reason": "urgent"})
    assert broken.status_code == 422  # a validation error is never overridden
    deployed = web.post(f"{URL}/deploy", json={"xml": RENAMED, "override_reason": "  the order's title per letter 12 "})
    assert deployed.status_code == 200, deployed.data
    [version] = deployed.get_json()["versions"]
    assert version["new"] is True
    with product.uow(write=False) as uow:
        rows = uow.session.execute(text(
            "SELECT actor, details FROM event_log WHERE action = 'features_overridden'")).all()
    assert len(rows) == 1 and rows[0][0] == "analyst"
    details = json.loads(rows[0][1]) if isinstance(rows[0][1], str) else rows[0][1]  # JSON text on SQLite
    assert details["reason"] == "the order's title per letter 12"
    assert details["analyst"] == "Әлиев Тимур Русланұлы" and details["process"] == "service_delivery"
    assert product.runtime.engine.library.current("service_delivery").element(
        "issue_admission_order").name == "Издать приказ о зачислении (ред.)"


def test_a_version_whose_features_passed_deploys_without_a_reason(product: Services) -> None:  # noqa: F811
    analyst = _member(product, "analyst")
    with product.uow(write=False) as uow:
        files = candidate_files(uow, product.runtime, actor=analyst, process_id="service_delivery", xml=RENAMED)
    passed = FeatureRun("0" * 16, candidate_hash(files), "passed", 1, 1, [FeatureResult("§10", "p10.feature", 1)])
    result = deploy_candidate(product.write_uow, product.runtime, actor=analyst, process_id="service_delivery",
                              xml=RENAMED, run=passed, override_reason="", now=product.now())
    assert [v.new for v in result.versions] == [True]
    other = FeatureRun("1" * 16, "f" * 64, "passed", 1, 1, [])  # passed, but on other files
    with pytest.raises(InvalidInput, match="reason"):
        deploy_candidate(product.write_uow, product.runtime, actor=analyst, process_id="service_delivery",
                         xml=LIVE, run=other, override_reason="", now=product.now())


def test_validation_in_the_modeler_includes_bpmnlint_and_the_layout(web: FlaskClient) -> None:
    """A shape dragged onto another: the layout check marks both; bpmnlint runs too (its kinds in the list)."""
    moved = LIVE.replace('<bpmndi:BPMNShape id="issue_admission_order_di" bpmnElement="issue_admission_order">\n'
                         '        <dc:Bounds x="2905" y="740"',
                         '<bpmndi:BPMNShape id="issue_admission_order_di" bpmnElement="issue_admission_order">\n'
                         '        <dc:Bounds x="2905" y="600"', 1)
    assert moved != LIVE
    answer = web.post(f"{URL}/validate", json={"xml": moved}).get_json()
    layout = [p for p in answer["problems"]
              if p["kind"] == "layout-overlap" and "issue_admission_order" in p["message"]]
    linted = [p for p in answer["problems"]
              if p["kind"] == "bpmnlint/no-overlapping-elements" and p["element_id"] == "issue_admission_order"]
    assert layout and linted, answer["problems"]
    clean = web.post(f"{URL}/validate", json={"xml": LIVE}).get_json()
    assert not [p for p in clean["problems"] if p["kind"].startswith(("layout", "bpmnlint"))], clean["problems"]
