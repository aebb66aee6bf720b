"""The gateway: Pathways over HTTP (health, readiness and metrics now; the API under /api/v1
and the console join it), served by uvicorn in the same process as any other service.

Every CLI command imports the services' wiring (services.app), and only a process that runs
the gateway needs FastAPI, uvicorn and prometheus_client (most of a second): they are imported
when the gateway is made or started, not with this module."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from faststream.nats import NatsRouter

from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.gateway.sockets import PortUnavailable, bind, reason, url_of, where

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from services.gateway.console_setup import ConsoleSetup
    from services.gateway.context import GatewayContext
    from services.gateway.server import HttpServer

__all__ = ["Gateway", "PortUnavailable", "build"]

log = get_logger(__name__)


def build(rt: Runtime) -> NatsRouter:
    """The gateway subscribes to nothing (yet): it calls the other services, over HTTP's side
    of it (class Gateway)."""
    return NatsRouter()


class Gateway:
    """The HTTP server of one process. Made (its socket bound) before anything else starts;
    started once the services are connected and subscribed; stopped before the broker stops."""

    def __init__(self, settings: Settings) -> None:
        from services.gateway.metrics import new_registry

        self._socket: socket.socket = bind(settings.host, settings.port)
        self.address = url_of(self._socket)
        # Shared with the broker (services.core.broker_metrics), served on /metrics.
        self.metrics: CollectorRegistry = new_registry()
        self._context: GatewayContext | None = None
        self._server: HttpServer | None = None
        # The console's keys and settings, read by the command that runs the gateway (so a
        # problem is one line before anything starts); see services.gateway.console_setup.
        self.console_setup: ConsoleSetup | None = None

    async def start(self, rt: Runtime) -> None:
        """Serve until stop(); raise PortUnavailable if the socket cannot listen after all."""
        from services.gateway.app import create_app
        from services.gateway.console import start_console
        from services.gateway.context import GatewayContext
        from services.gateway.readiness import standard_checks
        from services.gateway.server import HttpServer

        public = rt.settings.public_url
        self._context = GatewayContext(
            rt=rt,
            metrics=self.metrics,
            readiness=standard_checks(rt),
            hsts=public is not None and public.scheme == "https",
            console=await start_console(rt, self.console_setup),
        )
        self._server = HttpServer(create_app(self._context), self._socket)
        try:
            await self._server.start()
        except OSError as exc:
            self._server = None
            host, port = self._socket.getsockname()[:2]
            raise PortUnavailable(f"cannot listen on {where(host, port)}: {reason(exc)}") from exc
        log.info("gateway_listening", address=self.address)

    async def stop(self) -> None:
        if self._context is not None:
            self._context.stopping.set()
            if self._context.console is not None:
                from services.gateway.console import stop_console

                await stop_console(self._context.console)
        if self._server is not None:
            await self._server.stop()
            self._server = None
            log.info("gateway_stopped")
        self.close()

    def close(self) -> None:
        """Release the socket (a gateway made but never started, or stopped)."""
        self._socket.close()
