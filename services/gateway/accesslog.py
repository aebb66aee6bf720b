"""One log line per request: method, route template, status and milliseconds. Nothing that
says who asked or about what: no path values, query strings, client addresses, user agents,
cookies or principals (services.gateway.observe).

Pure ASGI (see services.gateway.headers); a streamed response is logged when it ends."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.core.logging import get_logger
from services.gateway.observe import method_label, route_template

log = get_logger("services.gateway.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0  # no response: the client went away first

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            log.info(
                "http_request",
                method=method_label(scope),
                route=route_template(scope),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
