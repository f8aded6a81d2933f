"""An analyst changes a process in the in-app modeler: breaks it, sees the error on the element, fixes it,
runs the legal features, deploys; a new case starts on the new version while an older one finishes on its own."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from service.application.cases import complete_task, deliver_message
from service.application.demo import ensure_demo_accounts
from service.application.deployments import deploy_shipped
from service.bootstrap import build_services
from service.config import Settings
from service.domain.staff import Actor
from service.web import create_app

from ..support import PROJECT, SCHOOL_25, SYSTEM, owners, registry
from ..test_web import _application
from .conftest import LiveServer
from .test_staff_journeys import sign_in

pytestmark = pytest.mark.browser

#: One quick scenario stands for the legal features here (the full set takes minutes).
QUICK_FEATURES = "отказ_в_канцелярии__не_представлено_заключение_вкк"
#: The default flow of "Пакет полный?", the only way to the clerk's refusal task.
DEFAULT_FLOW = "office_incomplete"
CUT_OFF = "confirm_office_refusal"
RENAMED_TASK = "issue_admission_order"


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """The app as 'homeschool serve' runs it (the shipped files deployed), with a quick feature selection."""
    from werkzeug.serving import make_server

    settings = Settings.from_env({
        "DATABASE_URL": database_url,
        "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
        "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "none.toml"),
        "HOMESCHOOL_PREDEPLOY_FEATURES": QUICK_FEATURES,
    }, base=PROJECT)
    services = build_services(settings)
    registry(services)
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    deploy_shipped(services.write_uow, services.runtime, settings.processes_dir, settings.forms_dir, services.now())
    server = make_server("127.0.0.1", 0, create_app(settings, services), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", services)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        services.database.dispose()


def _incomplete_application(live_server: LiveServer, number: str) -> int:
    """An office application without the VKK conclusion: the clerk will be asked to confirm a refusal."""
    payload = _application(number=number)
    payload["documents"] = ["application", "identity_document"]
    services = live_server.services
    with services.uow() as uow:
        receipt = deliver_message(uow, services.runtime, actor=SYSTEM, name="service_requested", business_key=number,
                                  payload=payload, owners=owners(services, SCHOOL_25), now=services.now())
    assert receipt.instance_id is not None
    return receipt.instance_id


def _version_of(live_server: LiveServer, case_id: int) -> str | None:
    with live_server.services.uow(write=False) as uow:
        stored = uow.instances.get(case_id)
    assert stored is not None
    return stored.deployment_hash


def _clerk(live_server: LiveServer) -> Actor:
    with live_server.services.uow(write=False) as uow:
        found = uow.staff.by_login("clerk")
    assert found is not None
    return found[0]


def _click_flow(page: Page, element_id: str) -> None:
    """Click a sequence flow on its line, as a person would: the first point across its box that is the flow."""
    point = page.evaluate("""(id) => {
        const hit = document.querySelector(`#modeler-canvas g.djs-element[data-element-id="${id}"] .djs-hit`);
        const box = hit.getBoundingClientRect();
        for (const fy of [0.5, 0.25, 0.75]) {
            const y = box.top + box.height * fy;
            for (let x = box.left; x <= box.right; x += 1) {
                const found = document.elementFromPoint(x, y);
                const owner = found && found.closest("[data-element-id]");
                if (owner && owner.getAttribute("data-element-id") === id) {
                    return [x, y];
                }
            }
        }
        return null;
    }""", element_id)
    assert point, f"the flow {element_id} cannot be clicked"
    page.mouse.click(point[0], point[1])


def test_an_analyst_breaks_fixes_tests_and_deploys_a_process(page: Page, live_server: LiveServer) -> None:
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            blocked.append(message.text)

    page.on("console", watch)
    older = _incomplete_application(live_server, "APP-OLD-1")
    old_version = _version_of(live_server, older)
    assert old_version

    sign_in(page, "analyst", landing="Задачи")
    page.goto("/diagrams")
    page.get_by_role("link", name="Изменить в редакторе").first.click()
    expect(page).to_have_url(re.compile(r"/modeler/"))
    if not page.url.endswith("/modeler/service_delivery"):
        page.goto("/modeler/service_delivery")
    root = page.locator("#modeler")
    expect(root).to_have_attribute("data-modeler", "ready")

    # the analyst deletes the default flow of "Пакет полный?"
    _click_flow(page, DEFAULT_FLOW)
    expect(page.locator(f'g.djs-element.selected[data-element-id="{DEFAULT_FLOW}"]')).to_have_count(1)
    page.keyboard.press("Delete")
    expect(page.locator(f'#modeler-canvas g.djs-element[data-element-id="{DEFAULT_FLOW}"]')).to_have_count(0)
    page.get_by_role("button", name="Проверить").click()
    expect(root).to_have_attribute("data-validated", "problems")
    problem = page.locator(f'#modeler-problems li.error[data-element-id="{CUT_OFF}"]')
    expect(problem.first).to_contain_text("Подтвердить отказ или исправить сведения")
    expect(page.locator(f'#modeler-canvas g.djs-element[data-element-id="{CUT_OFF}"]')).to_have_class(
        re.compile(r"\bproblem-error\b"))

    # … undoes it, renames the order task, and the validator is content
    page.locator("#modeler-canvas").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(page.locator(f'#modeler-canvas g.djs-element[data-element-id="{DEFAULT_FLOW}"]')).to_have_count(1)
    page.locator(f'#modeler-canvas g.djs-element[data-element-id="{RENAMED_TASK}"]').dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    page.keyboard.press("Control+a")
    page.keyboard.type("Издать приказ о зачислении на дому")
    page.locator("#modeler-canvas").click(position={"x": 5, "y": 5})
    page.get_by_role("button", name="Проверить").click()
    expect(root).to_have_attribute("data-validated", "ok")
    expect(page.locator(f'#modeler-canvas g.djs-element[data-element-id="{CUT_OFF}"]')).not_to_have_class(
        re.compile(r"\bproblem-error\b"))

    page.get_by_role("button", name="Показать изменения").click()
    expect(page.locator(f'#modeler-changes li[data-element-id="{RENAMED_TASK}"]')).to_contain_text("Изменено")

    # deploying before the features ran asks for them (or a reason)
    page.get_by_role("button", name="Ввести версию в действие").click()
    expect(page.locator("#modeler-deploy-result")).to_contain_text("Сценарии на этой версии не пройдены")

    page.get_by_role("button", name="Запустить правовые сценарии").click()
    expect(root).to_have_attribute("data-features", "passed", timeout=240_000)
    expect(page.locator("#modeler-features li").first).to_contain_text("✓")
    page.get_by_role("button", name="Ввести версию в действие").click()
    expect(root).to_have_attribute("data-deployed", "new", timeout=30_000)
    assert not blocked, blocked

    # a new case starts on the new version; the older one keeps its own and finishes on it
    newer = _incomplete_application(live_server, "APP-NEW-1")
    new_version = _version_of(live_server, newer)
    assert new_version and new_version != old_version
    assert live_server.services.runtime.engine.library.current("service_delivery").element(
        RENAMED_TASK).name == "Издать приказ о зачислении на дому"
    services = live_server.services
    with services.uow(write=False) as uow:
        [task] = [t for t in uow.tasks.for_instance(older) if t.element_id == "confirm_office_refusal"]
    with services.uow() as uow:
        complete_task(uow, services.runtime, actor=_clerk(live_server), task_id=task.task_id,
                      data={"decision": "refuse"}, now=services.now())
    with services.uow(write=False) as uow:
        finished = uow.instances.get(older)
    assert finished is not None and finished.status == "completed"
    assert finished.deployment_hash == old_version
