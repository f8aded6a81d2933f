"""``GET /metrics``: the service's figures in the Prometheus text format (prometheus-client).

The figures are computed from the database when Prometheus scrapes (a custom collector on this
app's own registry), never kept in process-global counters, so every gunicorn worker answers the
same. Access: with ``HOMESCHOOL_METRICS_TOKEN`` set, only a request carrying
``Authorization: Bearer <token>``; without it, only a request from this machine (loopback).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from ipaddress import ip_address
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from service import bootstrap
from service.application.metrics import EventTally, read_figures

blueprint = Blueprint("metrics", __name__)
_REGISTRY = "homeschool_metrics"


class DatabaseCollector:
    """Reads the figures in one read-only transaction each time the registry is collected."""

    def __init__(self, services: bootstrap.Services) -> None:
        self.services = services
        self.tasks_completed = EventTally("task_completed")

    def collect(self) -> Iterable[Metric]:
        """The metric families of one scrape."""
        svc = self.services
        with svc.uow(write=False) as uow:
            figures = read_figures(uow, self.tasks_completed, svc.now())
        yield GaugeMetricFamily("homeschool_incidents_open", "Cases parked as an open incident",
                                value=figures.open_incidents)
        yield GaugeMetricFamily("homeschool_timers_due", "Pending timers whose firing time has passed",
                                value=figures.timers_due)
        yield GaugeMetricFamily("homeschool_timers_overdue",
                                "Pending timers whose firing time passed more than a minute ago",
                                value=figures.timers_overdue)
        backlog = GaugeMetricFamily("homeschool_outbox_backlog", "Outbox messages not yet delivered",
                                    labels=["channel"])
        for channel, count in sorted(figures.outbox_backlog.items()):
            backlog.add_metric([channel], count)
        yield backlog
        yield GaugeMetricFamily("homeschool_inbox_kept", "Incoming messages kept that no case has taken yet",
                                value=figures.inbox_kept)
        yield CounterMetricFamily("homeschool_tasks_completed", "User tasks completed (event log)",
                                  value=figures.tasks_completed)


@blueprint.record_once
def _register(state: Any) -> None:
    app: Flask = state.app
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(app.extensions["homeschool"]))
    app.extensions[_REGISTRY] = registry


def _allowed() -> bool:
    """A bearer token matching the configured one; with none configured, a loopback client."""
    token = current_app.extensions["homeschool"].settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    try:
        return ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@blueprint.get("/metrics")
def metrics() -> Response:
    """The figures as Prometheus text, for a permitted scraper; 403 (401 without a token when one is needed)."""
    if not _allowed():
        needs_token = bool(current_app.extensions["homeschool"].settings.metrics_token)
        status = 401 if needs_token and "Authorization" not in request.headers else 403
        headers = {"WWW-Authenticate": 'Bearer realm="homeschool-metrics"'} if status == 401 else {}
        return Response("forbidden\n", status=status, mimetype="text/plain", headers=headers)
    body = generate_latest(current_app.extensions[_REGISTRY])
    return Response(body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
