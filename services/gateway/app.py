"""The gateway's ASGI application: FastAPI for the routes, wrapped in pure ASGI middleware.

From the outside in: security headers (on every answer, even the last-resort 500), the access
log, the HTTP metrics, the last resort for unexpected errors, then FastAPI. Routers join in
`create_app`: the API under /api/v1 and the console pages come here."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import FastAPI
from starlette.types import ASGIApp

from services.gateway import api, console, health, metrics, problems
from services.gateway.accesslog import AccessLog
from services.gateway.context import GatewayContext
from services.gateway.headers import SecurityHeaders

API_PREFIX = "/api/v1"


def create_app(ctx: GatewayContext) -> ASGIApp:
    app = FastAPI(
        title="Pathways",
        version=version("pathways"),
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Swagger UI and ReDoc load scripts from a CDN, which the content security policy
        # forbids (and which a police network may not reach); the schema itself is served.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.pathways = ctx
    problems.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(api.router)
    if ctx.console is not None:
        console.install(app, ctx.console)
    wrapped: ASGIApp = problems.LastResort(app)
    wrapped = metrics.HttpMetrics(wrapped, registry=ctx.metrics)
    wrapped = AccessLog(wrapped)
    return SecurityHeaders(wrapped, hsts=ctx.hsts)
