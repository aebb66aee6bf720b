"""What the access log and metrics record of a request (the route's template, a known method),
and the gateway's socket: a busy port is one line naming it."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

from services.gateway.observe import UNMATCHED, method_label, route_template
from services.gateway.sockets import PortUnavailable, bind, url_of


async def seen_route(method: str, path: str) -> tuple[str, str]:
    api = FastAPI()
    # Routers included under prefixes, as the gateway's API is.
    version, tasks = APIRouter(prefix="/api/v1"), APIRouter(prefix="/tasks")

    @tasks.get("/{task_id}")
    async def task(task_id: str) -> dict[str, str]:
        return {"id": task_id}

    version.include_router(tasks)
    api.include_router(version)

    seen: list[tuple[str, str]] = []

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        await api(scope, receive, send)
        seen.append((method_label(scope), route_template(scope)))

    transport = httpx.ASGITransport(app=recording)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await client.request(method, path)
    return seen[0]


async def test_the_template_is_recorded_not_the_path() -> None:
    assert await seen_route("GET", "/api/v1/tasks/INC-7Q3XK2AB.x?token=abc") == (
        "GET",
        "/api/v1/tasks/{task_id}",
    )


async def test_a_path_no_route_matches_is_unmatched() -> None:
    assert await seen_route("GET", "/api/v1/people/jane.doe") == ("GET", UNMATCHED)


async def test_a_method_of_the_clients_invention_is_other() -> None:
    assert await seen_route("FROBNICATE", "/api/v1/tasks/x") == ("other", "/api/v1/tasks/{task_id}")


def test_a_busy_port_is_one_line_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable) as raised:
            bind("127.0.0.1", port)
    message = str(raised.value)
    assert message == (
        f"cannot listen on 127.0.0.1:{port}: "
        "the port is in use (choose another with --port or PATHWAYS_PORT)"
    )


def test_every_interface_is_shown_as_an_address_a_browser_opens() -> None:
    sock = bind("0.0.0.0", 0)
    try:
        port = sock.getsockname()[1]
        assert url_of(sock) == f"http://127.0.0.1:{port}"
    finally:
        sock.close()
