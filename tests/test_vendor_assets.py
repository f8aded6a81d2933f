"""The app serves bpmn-js itself, from what ``make setup`` installed from the npm registry."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.web import create_app
from tests.support import shipped_services


@pytest.fixture
def web(tmp_path: Path, database_url: str) -> Iterator[FlaskClient]:
    services = shipped_services(tmp_path, database_url)
    yield create_app(services.settings, services, TESTING=True).test_client()
    services.database.dispose()


def test_the_viewer_bundle_comes_from_the_installed_package(web: FlaskClient) -> None:
    with web.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js") as response:
        assert response.status_code == 200
        assert "javascript" in response.mimetype
        installed = Path("node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js").read_bytes()
        assert response.data == installed


def test_style_sheets_and_fonts_are_served(web: FlaskClient) -> None:
    with web.get("/vendor/bpmn-js/assets/bpmn-js.css") as css:
        assert css.mimetype == "text/css"
    with web.get("/vendor/bpmn-js/assets/bpmn-font/font/bpmn.woff2") as font:
        assert font.status_code == 200 and font.data[:4] == b"wOF2"


@pytest.mark.parametrize("name", [
    "../package.json", "bpmn-modeler.development.js", "../../package-lock.json", "%2e%2e/package.json",
])
def test_nothing_outside_the_list_is_served(web: FlaskClient, name: str) -> None:
    assert web.get(f"/vendor/bpmn-js/{name}").status_code == 404
    assert web.get(f"/vendor/bpmnlint/{name}").status_code == 404


def test_a_download_the_browser_abandons_leaves_no_file_open(web: FlaskClient) -> None:
    import gc

    opened: list[object] = []
    response = web.get("/vendor/bpmn-js/assets/bpmn-font/font/bpmn.woff2", buffered=False)
    assert response.status_code == 200
    body = response.response  # what the server would stream; the browser leaves before reading it
    opened += [part for part in ([body] if hasattr(body, "fileno") else []) +
               [getattr(body, "file", None)] if part is not None and hasattr(part, "fileno")]
    assert opened == [], opened  # served from memory: nothing for a cut connection to leave open
    del response, body
    gc.collect()


def test_a_browser_holding_the_file_is_told_it_has_not_changed(web: FlaskClient) -> None:
    with web.get("/vendor/bpmn-js/assets/bpmn-js.css") as first:
        tag = first.headers["ETag"]
        assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=3600"
    with web.get("/vendor/bpmn-js/assets/bpmn-js.css", headers={"If-None-Match": tag}) as again:
        assert again.status_code == 304 and again.data == b""


def test_the_app_s_own_files_are_served_from_memory_and_nothing_beside_them(web: FlaskClient) -> None:
    app = web.application
    with app.test_request_context("/static/forms.js"):
        served = app.view_functions["static"](filename="forms.js")
        source = getattr(served.response, "file", None)  # what the server would stream from
        assert isinstance(source, io.BytesIO), source  # not an open file a cut connection would leave open
        served.close()
    with web.get("/static/forms.js") as response:
        assert response.status_code == 200 and "javascript" in response.mimetype
        assert response.data == Path("service/web/static/forms.js").read_bytes()
        tag = response.headers["ETag"]
    with web.get("/static/forms.js", headers={"If-None-Match": tag}) as again:
        assert again.status_code == 304
    for name in ("../__init__.py", "%2e%2e/__init__.py", "../templates/base.html", "missing.js"):
        assert web.get(f"/static/{name}").status_code == 404, name
