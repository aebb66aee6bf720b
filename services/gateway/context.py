"""What the gateway's routes need, wired once when it starts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from prometheus_client import CollectorRegistry
from starlette.requests import Request

from services.core.runtime import Runtime
from services.gateway.readiness import ReadinessCheck

if TYPE_CHECKING:
    from services.gateway.console import Console


@dataclass
class GatewayContext:
    rt: Runtime
    metrics: CollectorRegistry
    # What /readyz asks, in order (services.gateway.readiness.standard_checks, and any added).
    readiness: list[ReadinessCheck]
    # Whether to send Strict-Transport-Security (the public URL is https).
    hsts: bool = False
    # Set when the gateway begins to stop: a long-lived response (a stream of live updates)
    # ends when it is, rather than holding the shutdown until its grace period runs out.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # The web console (sign-in, sessions, pages): services.gateway.console.
    console: Console | None = None


def context_of(request: Request) -> GatewayContext:
    return cast(GatewayContext, request.app.state.pathways)
