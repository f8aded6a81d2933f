"""The README's example API bodies work: each is posted, as written, to the shipped product."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.application.staff import register_api_client
from service.bootstrap import Services
from service.domain.staff import API_SCOPES
from service.web import create_app

from .support import PROJECT, shipped_services

_EXAMPLE = re.compile(r"^#### `POST (/api/v1/[a-z/]+)`\n(?:.*?\n)*?```json\n(.*?)\n```", re.MULTILINE | re.DOTALL)


def readme_examples() -> dict[str, dict[str, Any]]:
    """Each documented call's example body, by path."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    return {path: json.loads(body) for path, body in _EXAMPLE.findall(text)}


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[tuple[FlaskClient, str, Services]]:
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        token = register_api_client(uow, name="everything", scopes=API_SCOPES, now=services.now())
    yield create_app(services.settings, services, TESTING=True).test_client(), token, services
    services.database.dispose()


def test_every_api_call_has_an_example() -> None:
    assert set(readme_examples()) == {"/api/v1/applications", "/api/v1/proactive/conclusions",
                                      "/api/v1/sms/deliveries", "/api/v1/sms/replies", "/api/v1/complaints"}


def test_the_examples_are_accepted_as_written(api: tuple[FlaskClient, str, Services]) -> None:
    client, token, services = api
    examples = readme_examples()

    def post(path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        answer = client.post(path, json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
        assert answer.status_code in (200, 201, 202), (path, answer.status_code, answer.get_json())
        return answer.get_json()

    created = post("/api/v1/applications", examples["/api/v1/applications"], "readme-1")
    seen = client.get(f"/api/v1/cases/{created['case_number']}", headers={"Authorization": f"Bearer {token}"})
    assert seen.status_code == 200
    post("/api/v1/proactive/conclusions", examples["/api/v1/proactive/conclusions"], "readme-2")
    with services.uow(write=False) as uow:
        offers = [m for m in uow.outbox.listing(pending_only=False, limit=100) if m.channel == "sms"]
    assert len(offers) == 1 and offers[0].business_key == "PRO-2026-0001"
    delivery = dict(examples["/api/v1/sms/deliveries"], message_id=offers[0].idempotency_key,
                    at=services.now().isoformat(timespec="seconds"))
    post("/api/v1/sms/deliveries", delivery, "readme-3")
    reply = post("/api/v1/sms/replies", examples["/api/v1/sms/replies"], "readme-4")
    assert reply.get("outcome", reply.get("status")) != "closed", reply
    post("/api/v1/complaints", examples["/api/v1/complaints"], "readme-5")
