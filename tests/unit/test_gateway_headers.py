"""The security headers middleware: on every response, without overriding a route's own, and
without holding back a streamed body (it is pure ASGI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse
from starlette.types import Message, Scope

from services.gateway import problems
from services.gateway.headers import (
    CONTENT_SECURITY_POLICY,
    STRICT_TRANSPORT_SECURITY,
    SecurityHeaders,
)

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def app(hsts: bool = False) -> SecurityHeaders:
    api = FastAPI()
    problems.install(api)

    @api.get("/plain")
    async def plain() -> dict[str, str]:
        return {"ok": "yes"}

    @api.get("/framed")
    async def framed() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"X-Frame-Options": "SAMEORIGIN"})

    return SecurityHeaders(api, hsts=hsts)


async def get(path: str, hsts: bool = False) -> httpx.Response:
    transport = httpx.ASGITransport(app=app(hsts))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get(path)


@pytest.mark.parametrize("path", ["/plain", "/nowhere", "/openapi.json"])
async def test_every_response_carries_the_headers(path: str) -> None:
    response = await get(path)
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (path, name, response.headers)
    assert "camera=()" in response.headers["permissions-policy"]
    assert "strict-transport-security" not in response.headers


async def test_hsts_only_when_served_over_https() -> None:
    response = await get("/nowhere", hsts=True)
    assert response.status_code == 404
    assert response.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY


async def test_a_header_the_route_sets_is_kept_and_not_doubled() -> None:
    response = await get("/framed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_a_streamed_body_passes_through_chunk_by_chunk() -> None:
    """The first chunk reaches the client while the route is still waiting to send the
    second: nothing buffers the response (as BaseHTTPMiddleware would)."""
    second_may_go = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first"
        await second_may_go.wait()
        yield b"second"

    api = FastAPI()

    @api.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/event-stream")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body") == b"first":
            second_may_go.set()

    async def receive() -> Message:
        await asyncio.sleep(3600)  # the client says nothing more (and never disconnects)
        return {"type": "http.disconnect"}

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/stream",
        "raw_path": b"/stream",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "server": ("gateway", 80),
    }
    middleware = SecurityHeaders(api, hsts=False)
    await asyncio.wait_for(middleware(scope, receive, send), 5)
    bodies = [m.get("body") for m in sent if m["type"] == "http.response.body"]
    assert bodies[:2] == [b"first", b"second"], sent
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert (b"x-frame-options", b"DENY") in start["headers"]
