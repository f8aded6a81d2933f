"""The analysts' versions page (issue 12, points 2 and 4): versions with their running cases, a diff of two
listed and drawn, and moving running cases after a dry run — for analysts only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from service.application.demo import ensure_demo_accounts
from service.bootstrap import Services
from service.config import Settings
from service.engine.library import parse_diagram
from service.engine.svg import render_svg
from service.engine.versions import diff_diagrams
from service.web import create_app

from .support import PROJECT
from .test_deployments import DIAGRAM, FORM, FORM_A, FORM_B, T0, V2, V3, _case, _complete, _deploy, _events, _services
from .test_deployments import _start as start_case_of

NEW_V3 = V3.replace(b'name="Check the request"', b'name="Check and note"')


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    built = _services(settings)
    with built.uow() as uow:
        ensure_demo_accounts(uow, T0)
        uow.commit()
    yield built
    built.database.dispose()


def _signed_in(svc: Services, login: str) -> tuple[FlaskClient, str]:
    client = create_app(svc.settings, svc, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").data.decode())
    assert token is not None
    response = client.post("/login", data={"login": login, "password": f"{login}-demo-2026",
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/tasks").data.decode())
    assert found is not None
    return client, found.group(1)


def _two_versions(svc: Services) -> tuple[str, str, int, int]:
    first = _deploy(svc, V2, FORM_A)
    at_task, at_timer = start_case_of(svc, "P-1"), start_case_of(svc, "P-2")
    _complete(svc, at_timer, approved=True, checked_by="clerk")
    second = _deploy(svc, NEW_V3, FORM_B, when=T0 + timedelta(minutes=1))
    return first, second, at_task, at_timer


def test_a_clerk_may_not_see_versions_nor_move_cases(svc: Services) -> None:
    first, second, at_task, _ = _two_versions(svc)
    clerk, token = _signed_in(svc, "clerk")
    assert clerk.get("/versions").status_code == 403
    assert clerk.get("/versions/repair_demo").status_code == 403
    assert clerk.get(f"/versions/repair_demo/diff?old={first}&new={second}").status_code == 403
    refused = clerk.post("/versions/repair_demo/move", data={"from": first, "to": second, "action": "move",
                                                             "reason": "no", "csrf_token": token})
    assert refused.status_code == 403
    assert _case(svc, at_task).deployment_hash == first
    assert "/versions" not in clerk.get("/tasks").data.decode()


def test_an_analyst_sees_the_versions_and_the_diff_drawn(svc: Services) -> None:
    first, second, _, _ = _two_versions(svc)
    analyst, _token = _signed_in(svc, "analyst")
    assert 'href="/versions"' in analyst.get("/tasks").data.decode()
    page = analyst.get("/versions/repair_demo").data.decode()
    rows = re.findall(r'<tr data-version="([0-9a-f]+)">(.*?)</tr>', page, re.S)
    assert [digest for digest, _ in rows] == [second, first]
    assert first[:12] in page and second[:12] in page
    assert "Текущая" in rows[0][1] and "Текущая" not in rows[1][1]
    assert [re.findall(r"<td>(\d+)</td>", row)[-1] for _, row in rows] == ["0", "2"]  # running cases per version

    diff = analyst.get(f"/versions/repair_demo/diff?old={first[:10]}&new=current")
    assert diff.status_code == 200
    html = diff.data.decode()
    assert 'data-element="cool_down"' in html and 'data-element="cooling_off"' in html
    assert re.search(r'<tr data-form="check">.*?note', html, re.S)
    assert 'id="drawing-old"' in html and 'id="drawing-new"' in html
    assert analyst.get("/versions/repair_demo/diff?old=zz&new=current").status_code == 302  # a clear message


def test_an_analyst_moves_the_running_cases_after_a_dry_run(svc: Services) -> None:
    first, second, at_task, at_timer = _two_versions(svc)
    analyst, token = _signed_in(svc, "analyst")
    plan = analyst.post("/versions/repair_demo/move", data={"from": first, "to": second, "action": "plan",
                                                            "csrf_token": token})
    assert plan.status_code == 200
    rows = dict(re.findall(r'<tr data-case="(\d+)" class="(ok|error)">', plan.data.decode()))
    assert rows == {str(at_task): "ok", str(at_timer): "error"}
    assert "cooling_off" in plan.data.decode()
    assert _case(svc, at_task).deployment_hash == first  # the dry run changed nothing

    done = analyst.post("/versions/repair_demo/move", data={"from": first, "to": second, "action": "move",
                                                            "reason": "the clerk now notes why",
                                                            "csrf_token": token})
    assert done.status_code == 302
    assert (_case(svc, at_task).deployment_hash, _case(svc, at_timer).deployment_hash) == (second, first)
    [event] = _events(svc, at_task, "case_migrated")
    assert event.actor == "analyst" and event.details["reason"] == "the clerk now notes why"
    assert DIAGRAM and FORM  # the paths the versions are deployed under


def test_the_diff_is_drawn_on_the_diagrams_with_added_removed_and_changed_marked() -> None:
    shipped = (PROJECT / "processes" / "service_delivery.bpmn").read_bytes()
    edited = shipped.replace('name="Подтвердить отказ или исправить сведения"'.encode(),
                             'name="Подтвердить отказ"'.encode())
    edited = edited.replace(b'id="attend_overdue_request"', b'id="attend_overdue"')
    edited = edited.replace(b'"attend_overdue_request"', b'"attend_overdue"').replace(
        b">attend_overdue_request<", b">attend_overdue<")
    old, new = parse_diagram(shipped, "old.bpmn"), parse_diagram(edited, "new.bpmn")
    diff = diff_diagrams(old, new)
    assert "attend_overdue" in [c.element_id for c in diff.added]
    assert "attend_overdue_request" in [c.element_id for c in diff.removed]
    changed = {c.element_id: c.facts for c in diff.changed}
    assert changed["confirm_office_refusal"]["name"][1] == "Подтвердить отказ"
    drawn_new = render_svg(new.source, marks=diff.marks("new"), standalone=False)
    drawn_old = render_svg(old.source, marks=diff.marks("old"), standalone=False)
    assert re.search(r'class="node [^"]*added[^"]*" data-element-id="attend_overdue"', drawn_new)
    assert re.search(r'class="node [^"]*changed[^"]*" data-element-id="confirm_office_refusal"', drawn_new)
    assert re.search(r'class="node [^"]*removed[^"]*" data-element-id="attend_overdue_request"', drawn_old)


def test_the_task_page_shows_the_form_of_the_case_s_own_version(svc: Services) -> None:
    _deploy(svc, V2, FORM_A)
    old_case = start_case_of(svc, "F-1")
    _deploy(svc, V2.replace(b'name="Check the request"', b'name="Check and note"'), FORM_B,
            when=T0 + timedelta(minutes=1))
    new_case = start_case_of(svc, "F-2")
    clerk, _token = _signed_in(svc, "clerk")
    pages = {}
    for instance_id in (old_case, new_case):
        with svc.uow(write=False) as uow:
            [task] = uow.tasks.for_instance(instance_id)
        response = clerk.get(f"/tasks/{task.task_id}")
        assert response.status_code == 200
        pages[instance_id] = response.data.decode()
    assert 'name="note"' not in pages[old_case] and 'name="checked_by"' in pages[old_case]
    assert 'name="note"' in pages[new_case]


def test_every_phrase_the_versions_page_uses_is_in_the_catalogue() -> None:
    from service.web.i18n import has_phrase

    templates = PROJECT / "service" / "web" / "templates"
    used = set()
    for name in ("versions.html", "version_diff.html"):
        used |= set(re.findall(r"t\('([a-z_]+)'\)", (templates / name).read_text(encoding="utf-8")))
    missing = sorted(key for key in used if not has_phrase(key))
    assert used and not missing, missing
