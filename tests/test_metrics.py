"""GET /metrics: Prometheus text computed from the database at scrape time, and who may scrape it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from service.application import metrics as metrics_module
from service.application.cases import deliver_message
from service.bootstrap import Services
from service.config import Settings
from service.domain.identity import make_iin
from service.domain.model import EventRecord, PendingTimer
from service.web import create_app

from .support import SCHOOL_25, SYSTEM, at, owners, shipped_services

NOW = at("2026-04-01T12:00+05:00")
CHILD_IIN = make_iin(date(2015, 4, 2), "male", 1)
PARENT_IIN = make_iin(date(1985, 6, 15), "female", 7)


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The shipped product on the test database, its clock stopped at NOW."""
    services = shipped_services(tmp_path, database_url)
    services.now = lambda: NOW  # type: ignore[method-assign]
    yield services
    services.database.dispose()


def _client(product: Services, remote: str = "127.0.0.1") -> FlaskClient:
    client = create_app(product.settings, product, TESTING=True).test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    return client


def _case(product: Services, number: str) -> int:
    application = {
        "application_number": number, "channel": "office", "received_at": "2026-03-20T17:00:00+05:00",
        "applicant": {"full_name": "Ахметова Айгүл", "iin": PARENT_IIN, "relation": "parent"},
        "child": {"full_name": "Ахметов Нұрлан", "iin": CHILD_IIN, "birth_date": "2015-04-02"},
        "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                           "recommends_home_schooling": True},
        "documents": ["application", "vkk_conclusion", "identity_document"], "provider_bin": SCHOOL_25,
    }
    with product.uow() as uow:
        receipt = deliver_message(uow, product.runtime, actor=SYSTEM, name="service_requested", business_key=number,
                                  payload=application, owners=owners(product, SCHOOL_25),
                                  now=at("2026-03-20T17:00+05:00"))
    assert receipt.instance_id is not None
    return receipt.instance_id


def _scrape(client: FlaskClient) -> dict[str, Any]:
    """Every sample of a scrape, by name (and label value for labelled ones)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, Any] = {}
    for family in text_string_to_metric_families(response.data.decode()):
        for sample in family.samples:
            key = sample.name + "".join(f"{{{v}}}" for v in sample.labels.values())
            samples[key] = sample.value
    return samples


def test_metrics_count_what_the_database_holds(product: Services) -> None:
    first, second, third = _case(product, "M-1"), _case(product, "M-2"), _case(product, "M-3")
    with product.uow(write=False) as uow:
        backlog_before = {c: sum(1 for m in uow.outbox.listing(pending_only=True, limit=10_000) if m.channel == c)
                          for c in ("monitoring", "portal_cabinet", "sms")}
    with product.uow() as uow:
        # timers: only these three, on the first case; due 2 h ago, 30 s ago, and in an hour
        for case in (first, second, third):
            uow.timers.replace_for_instance(case, [])
        uow.timers.replace_for_instance(first, [PendingTimer("a", NOW - timedelta(hours=2)),
                                                PendingTimer("b", NOW - timedelta(seconds=30)),
                                                PendingTimer("c", NOW + timedelta(hours=1))])
        # incidents: two open, one resolved
        uow.incidents.record(instance_id=first, kind="timer", error="x", element_id="a", element_name=None, now=NOW)
        uow.incidents.record(instance_id=second, kind="task", error="y", element_id="b", element_name=None, now=NOW)
        gone = uow.incidents.record(instance_id=third, kind="message", error="z", element_id=None, element_name=None,
                                    now=NOW)
        uow.incidents.resolve(gone.id, by="admin", resolution="fixed", now=NOW)
        # outbox: two more SMS, one of them delivered
        for n in (1, 2):
            uow.outbox.add(channel="sms", name="sms.test", idempotency_key=f"metrics-sms-{n}", instance_id=first,
                           business_key="M-1", payload={}, now=NOW)
        delivered = uow.outbox.by_key("metrics-sms-1")
        assert delivered is not None
        uow.outbox.mark_delivered(delivered.id, "spool:test", NOW)
        # inbox: three messages no case waits for, one of them then taken
        kept = [uow.inbox.add("nobody_waits", f"K-{n}", {}, f"metrics-in-{n}", NOW) for n in (1, 2, 3)]
        uow.inbox.mark_delivered(kept[0], first, NOW)
        # tasks completed: the event log's task_completed entries
        completed_before = uow.operations.count_actions("task_completed", 0)
        uow.events.append([EventRecord(at=NOW, actor="head", action="task_completed", instance_id=first)
                           for _ in range(4)])
        uow.commit()
    samples = _scrape(_client(product))
    assert samples["homeschool_incidents_open"] == 2
    assert samples["homeschool_timers_due"] == 2
    assert samples["homeschool_timers_overdue"] == 1
    assert samples["homeschool_outbox_backlog{sms}"] == backlog_before["sms"] + 1
    assert samples["homeschool_outbox_backlog{monitoring}"] == backlog_before["monitoring"]
    assert samples["homeschool_outbox_backlog{portal_cabinet}"] == backlog_before["portal_cabinet"]
    assert samples["homeschool_inbox_kept"] == 2
    assert samples["homeschool_tasks_completed_total"] == completed_before + 4


def test_tasks_completed_stays_right_across_scrapes_once_ids_settle(product: Services,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_module, "SETTLED_MARGIN", 3)  # settle all but the newest three ids
    client = _client(product)

    def log(*actions: str) -> None:
        with product.uow() as uow:
            uow.events.append([EventRecord(at=NOW, actor="t", action=a) for a in actions])
            uow.commit()

    start = _scrape(client)["homeschool_tasks_completed_total"]
    log("task_completed", "other", "task_completed", "other", "other", "task_completed")
    assert _scrape(client)["homeschool_tasks_completed_total"] == start + 3
    log("other", "other", "other", "other", "task_completed")  # the earlier ones now settle
    assert _scrape(client)["homeschool_tasks_completed_total"] == start + 4
    assert _scrape(client)["homeschool_tasks_completed_total"] == start + 4  # counted once, not again
    log("task_completed")
    assert _scrape(_client(product))["homeschool_tasks_completed_total"] == start + 5  # a fresh process agrees


def test_without_a_token_only_loopback_may_scrape(product: Services) -> None:
    assert _client(product, "127.0.0.1").get("/metrics").status_code == 200
    assert _client(product, "::1").get("/metrics").status_code == 200
    refused = _client(product, "10.20.30.40").get("/metrics")
    assert refused.status_code == 403 and b"homeschool_" not in refused.data


def test_with_a_token_only_its_bearer_may_scrape(product: Services) -> None:
    product.settings = dataclasses.replace(product.settings, metrics_token="s3cret-metrics")
    remote = _client(product, "10.20.30.40")
    assert remote.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"}).status_code == 200
    missing = remote.get("/metrics")
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    # with a token configured, loopback needs it too
    assert _client(product, "127.0.0.1").get("/metrics").status_code == 401


def test_homeschool_config_hides_the_metrics_token(tmp_path: Path) -> None:
    settings = Settings.from_env({"HOMESCHOOL_METRICS_TOKEN": "s3cret-metrics", "HOMESCHOOL_INBOX_STALE_HOURS": "6"},
                                 base=tmp_path)
    shown = dict(settings.describe())
    assert shown["metrics_token"] == "***" and "s3cret-metrics" not in str(shown)
    assert (settings.metrics_token, shown["inbox_stale_hours"], shown["outbox_stale_hours"]) == (
        "s3cret-metrics", "6.0", "24.0")
