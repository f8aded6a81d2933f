"""The case page's diagram for bpmn-js's viewer: its JSON endpoint, need-to-know, marks and names per language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree

from service.application.case_diagram import localized_names
from service.application.deployments import deploy, deploy_shipped
from service.bootstrap import Services
from service.domain.staff import Actor
from service.engine.library import BPMN_NS
from service.engine.names import diagram_names, translations, with_names

from .support import PROJECT, at
from .test_web import _client, _submit, sign_in
from .test_web import product as product  # noqa: F401 - the shipped product with the demo accounts


@pytest.fixture
def web(product: Services) -> Iterator[FlaskClient]:  # noqa: F811
    """A signed-out client on the shipped product."""
    yield _client(product)


def _names_in(xml: str) -> dict[str, str]:
    root = etree.fromstring(xml.encode("utf-8"))
    return {node.get("id"): node.get("name") for node in root.iter(f"{{{BPMN_NS}}}*") if node.get("name")}


def test_the_viewer_gets_the_case_diagram_marked_and_named_in_the_interface_language(
        product: Services, web: FlaskClient) -> None:  # noqa: F811
    case = _submit(product)
    sign_in(web, "head")
    ru = web.get(f"/cases/{case}/diagram.json")
    assert ru.status_code == 200 and ru.mimetype == "application/json"
    body = ru.get_json()
    assert "active" in body["marks"].values()
    assert body["marks"]["service_requested"] == "completed"
    assert _names_in(body["xml"])["determine_class_and_language"] == "Определить класс и язык обучения"

    web.post("/language", data={"lang": "kk", "next": "/tasks"})
    kk = web.get(f"/cases/{case}/diagram.json").get_json()
    names = _names_in(kk["xml"])
    assert names["determine_class_and_language"] == "Оқыту сыныбы мен тілін анықтау"
    assert names["head"] == "Көрсетілетін қызметті берушінің басшысы"  # a lane: the role's own name
    assert kk["names"]["determine_class_and_language"] == names["determine_class_and_language"]
    assert kk["marks"] == body["marks"]
    page = web.get(f"/cases/{case}").get_data(as_text=True)
    assert f'data-viewer-url="/cases/{case}/diagram.json"' in page
    for element_id in kk["marks"]:  # the text list for screen readers names the same steps, in Kazakh
        assert kk["names"].get(element_id, element_id) in page
    assert "<svg" in page  # without script, the server's drawing stays


def test_a_person_who_may_not_see_the_case_gets_404_from_the_diagram(product: Services, web: FlaskClient) -> None:  # noqa: F811
    case = _submit(product)  # school № 25
    sign_in(web, "head112")  # the head of another school
    response = web.get(f"/cases/{case}/diagram.json")
    assert response.status_code == 404
    assert b"<bpmn" not in response.data and b"definitions" not in response.data
    web.post("/logout")
    assert web.get(f"/cases/{case}/diagram.json").status_code in (302, 401)  # signed out: to sign-in


def test_every_translated_element_exists_in_its_diagram_and_has_both_languages() -> None:
    for path in sorted((PROJECT / "processes").glob("*.names.toml")):
        process_id = path.name.removesuffix(".names.toml")
        own = diagram_names((PROJECT / "processes" / f"{process_id}.bpmn").read_bytes())
        table = translations(PROJECT / "processes", process_id)  # the element names; [refusals] apart
        assert table, path
        for element_id, names in table.items():
            assert element_id in own, f"{path.name}: {element_id} is not in the diagram"
            assert names.get("kk") and names.get("en"), f"{path.name}: {element_id}"


def test_names_fall_back_to_the_diagram_and_a_broken_file_changes_nothing(tmp_path: Path) -> None:
    source = (PROJECT / "processes" / "service_delivery.bpmn").read_bytes()
    own = diagram_names(source)
    (tmp_path / "service_delivery.names.toml").write_text("[broken", encoding="utf-8")
    assert translations(tmp_path, "service_delivery") == {}
    assert localized_names(tmp_path, "service_delivery", own, "en")["determine_class_and_language"] == \
        own["determine_class_and_language"]
    renamed = with_names(source, {"determine_class_and_language": "Grade & <language>"})
    assert _names_in(renamed.decode("utf-8"))["determine_class_and_language"] == "Grade & <language>"


def test_each_case_is_named_by_the_names_file_of_its_own_version(product: Services, web: FlaskClient) -> None:  # noqa: F811
    settings = product.settings
    deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, product.now())
    older = _submit(product, number="APP-OLD")
    names = (PROJECT / "processes" / "service_delivery.names.toml").read_text(encoding="utf-8")
    renamed = names.replace('kk = "Оқыту сыныбы мен тілін анықтау"', 'kk = "Сынып пен тілді анықтау"')
    assert renamed != names
    deploy(product.write_uow, product.runtime, actor=Actor.system("test"), now=product.now(),
           files={"processes/service_delivery.names.toml": renamed.encode("utf-8")})
    newer = _submit(product, number="APP-NEW")
    sign_in(web, "head")
    web.post("/language", data={"lang": "kk", "next": "/tasks"})
    old_names = web.get(f"/cases/{older}/diagram.json").get_json()["names"]
    new_names = web.get(f"/cases/{newer}/diagram.json").get_json()["names"]
    assert old_names["determine_class_and_language"] == "Оқыту сыныбы мен тілін анықтау"
    assert new_names["determine_class_and_language"] == "Сынып пен тілді анықтау"
    assert "Сынып пен тілді анықтау" in web.get(f"/cases/{newer}").get_data(as_text=True)


def test_a_task_past_its_due_date_is_marked_overdue(
        product: Services, web: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    case = _submit(product)  # received on 2026-03-20: the head's task is due within days of it
    sign_in(web, "head")
    monkeypatch.setattr(Services, "now", staticmethod(lambda: at("2026-03-20T17:30+05:00")))
    in_time = web.get(f"/cases/{case}/diagram.json").get_json()["marks"]
    assert in_time["determine_class_and_language"] == "active" and "overdue" not in in_time.values()
    monkeypatch.setattr(Services, "now", staticmethod(lambda: at("2026-06-01T10:00+05:00")))
    late = web.get(f"/cases/{case}/diagram.json").get_json()["marks"]
    assert late["determine_class_and_language"] == "overdue"
    assert late["service_requested"] == "completed"
