"""uvicorn inside a Pathways process, started and stopped by the composition root.

uvicorn normally owns the process: it installs its own SIGINT/SIGTERM handlers and raises the
signal again once it has stopped. Here the `pathways` command owns them (services/cli/main.py),
and stops the gateway, then the broker, then NATS, in that order; so this server captures no
signals and is told to stop instead."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

# In-flight requests get this long to finish once stopping; then they are cancelled.
GRACE_SECONDS = 5.0
# Beyond the grace period, the most a stop may take before the server is abandoned.
STOP_MARGIN_SECONDS = 2.0


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class HttpServer:
    """Serves `app` on an already bound socket."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        config = uvicorn.Config(
            app,
            lifespan="off",  # the composition root starts and stops what the app uses
            log_config=None,  # our logging is set up already (services.core.logging)
            access_log=False,  # services.gateway.accesslog logs without personal data
            ws="none",
            server_header=False,
            timeout_graceful_shutdown=int(GRACE_SECONDS),
        )
        self._server = _Server(config)
        self._socket = sock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Return once the server accepts connections; raise what stopped it otherwise."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        listening = asyncio.create_task(self._server.listening.wait())
        await asyncio.wait({self._task, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if self._task.done():
            self._task.result()
            raise RuntimeError("the HTTP server stopped as it started")

    async def stop(self) -> None:
        """Stop accepting, give requests in flight the grace period, then end."""
        task = self._task
        if task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), GRACE_SECONDS + STOP_MARGIN_SECONDS)
        except TimeoutError:
            self._server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            self._socket.close()
