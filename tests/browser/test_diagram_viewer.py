"""The case page's diagram in bpmn-js's viewer: drawn under the strict CSP, zoomable, the active task marked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from .conftest import LiveServer
from .test_staff_journeys import register_application, sign_in

pytestmark = pytest.mark.browser


def _viewport(page: Page) -> str:
    """The transform bpmn-js gives its viewport: it changes with every zoom and move."""
    return page.locator(".diagram .djs-container svg g.viewport").first.get_attribute("transform") or ""


def test_the_case_diagram_is_drawn_by_the_viewer_zooms_and_marks_the_active_task(
        page: Page, live_server: LiveServer) -> None:
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            blocked.append(message.text)

    page.on("console", watch)
    sign_in(page, "clerk")
    register_application(page, live_server.services.now().date())
    case_id = int(page.url.rsplit("/", 1)[1])
    with live_server.services.uow(write=False) as uow:
        active = [task.element_id for task in uow.tasks.for_instance(case_id)]
    assert active

    frame = page.get_by_role("figure", name="Схема процесса")
    expect(frame).to_have_attribute("data-viewer", "ready")
    expect(frame.locator(".djs-container")).to_be_visible()
    expect(frame.locator("svg.bpmn")).to_have_count(0)  # the server's drawing gave way to the viewer
    for element_id in active:
        expect(frame.locator(f'g.djs-element[data-element-id="{element_id}"]')).to_have_class(
            re.compile(r"\bactive\b"))
    expect(frame.locator('g.djs-element[data-element-id="service_requested"]')).to_have_class(
        re.compile(r"\bcompleted\b"))
    # the text list for screen readers stays
    expect(page.locator("#diagram-steps li")).not_to_have_count(0)

    fitted = _viewport(page)
    page.get_by_role("button", name="Увеличить").click()
    expect(frame.locator("g.viewport").first).not_to_have_attribute("transform", fitted)
    zoomed = _viewport(page)
    frame.focus()
    page.keyboard.press("ArrowRight")
    expect(frame.locator("g.viewport").first).not_to_have_attribute("transform", zoomed)
    page.keyboard.press("0")
    expect(frame.locator("g.viewport").first).to_have_attribute("transform", fitted)
    assert not blocked, blocked


def test_names_follow_the_interface_language(page: Page, live_server: LiveServer) -> None:
    sign_in(page, "clerk")
    register_application(page, live_server.services.now().date())
    page.get_by_label("Язык", exact=True).select_option("en")
    page.get_by_role("button", name="Сменить язык").click()
    frame = page.get_by_role("figure", name="Process diagram")
    expect(frame).to_have_attribute("data-viewer", "ready")
    expect(frame.locator(".djs-container")).to_contain_text("Office clerk")  # a lane, by its role's name
    page.get_by_role("button", name="Zoom out").click()
