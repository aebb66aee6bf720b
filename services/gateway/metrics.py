"""Prometheus metrics: one registry per process, holding the HTTP metrics below, FastStream's
message metrics (services.core.broker_metrics) and the process's own; served on `/metrics`."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.context import context_of
from services.gateway.observe import method_label, route_template

router = APIRouter()
LABELS = ("method", "route", "status")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(context_of(request).metrics), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """Counts and times every request by method, route template and status (pure ASGI, see
    services.gateway.headers). Labels never hold a path value, so the series stay few."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "pathways_http_requests",
            "HTTP requests answered, by method, route template and status.",
            LABELS,
            registry=registry,
        )
        self.seconds = Histogram(
            "pathways_http_request_duration_seconds",
            "Time to answer an HTTP request (to the end of a streamed answer).",
            LABELS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            labels = (method_label(scope), route_template(scope), str(status))
            self.requests.labels(*labels).inc()
            self.seconds.labels(*labels).observe(time.perf_counter() - started)


def new_registry() -> CollectorRegistry:
    """The process's registry, with its CPU, memory, file descriptors and garbage collections."""
    from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
