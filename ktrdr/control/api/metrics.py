"""Prometheus metrics, served at /metrics (no redirect, no trailing slash needed)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

OPERATIONS_STARTED = Counter("ktrdr_operations_started_total", "Operations queued", ["type"])
OPERATIONS_FINISHED = Counter(
    "ktrdr_operations_finished_total", "Operations that ended", ["type", "status"]
)
REQUESTS = Counter("ktrdr_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("ktrdr_http_request_seconds", "HTTP request latency", ["method", "route"])


class _StateCollector(Collector):
    """Queue depth and workers, read at scrape time from the live services."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        services = getattr(self._app.state, "services", None)
        if services is None:
            return
        operations = GaugeMetricFamily(
            "ktrdr_operations", "Operations by status", labels=["status"]
        )
        for status, count in services.operations.counts_by_status().items():
            operations.add_metric([status], count)
        yield operations
        workers = GaugeMetricFamily(
            "ktrdr_workers", "Registered workers", labels=["type", "status"]
        )
        for kind, by_status in services.registry.counts().items():
            for status, count in by_status.items():
                workers.add_metric([kind, status], count)
        yield workers


_collector: _StateCollector | None = None


def install_metrics(app: FastAPI) -> None:
    global _collector
    if _collector is not None:  # one collector per process, following the newest app
        REGISTRY.unregister(_collector)
    _collector = _StateCollector(app)
    REGISTRY.register(_collector)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
