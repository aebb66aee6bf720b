"""The gateway in real processes: `pathways up --port P` and `pathways run gateway`, served by
uvicorn, asked over real HTTP: health and readiness, metrics (FastStream's and its own), problem
details, security headers on every answer, an access log without personal data, and a clean
stop on Ctrl-C while clients hold connections open."""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from schemas.api import PROBLEM_MEDIA_TYPE
from services.core.embedded import EmbeddedNats, port_in_use
from services.gateway.headers import CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY
from tests.e2e.console_client import Browser, console_address, demo_password
from tests.e2e.harness import (
    STOP_TIMEOUT,
    Cli,
    Service,
    inbox_of,
    log_incident,
    process_env,
    start_up,
    unexpected_tracebacks,
    wait_for,
)
from tests.support import eventually, free_port

pytestmark = pytest.mark.e2e

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
# In a path and a query string: neither may reach the log.
SECRET_ID = "jane-doe-4471"
SECRET_QUERY = "token=s3cr3t-value"


@dataclass(frozen=True)
class Up:
    service: Service
    nats_url: str
    http_port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def get(self, path: str, method: str = "GET") -> httpx.Response:
        return httpx.request(method, self.base + path, timeout=10)


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    log_dir = tmp_path_factory.mktemp("gateway")
    http_port = free_port()
    service, url, _ = start_up(log_dir, None, http_port, "--log-format", "json")
    try:
        service.wait_started()
        yield Up(service, url, http_port)
    finally:
        service.stop()
    failures = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
    assert not failures, failures
    assert not unexpected_tracebacks(service.log_text()), service.describe()


def test_health_and_readiness_answer(up: Up) -> None:
    assert up.get("/healthz").json() == {"status": "ok"}
    ready = up.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": ["nats_connected", "runtime_attached"]}


def test_the_banner_names_the_console_once_it_listens(up: Up) -> None:
    lines = up.service.log_text().splitlines()
    banner = f"Console and API: {up.base}/"
    assert banner in lines, up.service.describe()
    listening = next(i for i, line in enumerate(lines) if '"gateway_listening"' in line)
    assert listening < lines.index(banner)


def test_metrics_show_faststream_and_http_without_ids(up: Up) -> None:
    incident_id = log_incident(Cli(up.nats_url), "Metrics")
    up.get("/healthz")

    def counted() -> str | None:
        text = up.get("/metrics").text
        return text if "PATHWAYS_EVENTS/projector" in text else None

    text = wait_for(counted, 10, "the projector's messages counted")
    assert (
        'faststream_received_messages_total{app_name="pathways",broker="nats",'
        'handler="pw.cmd.incident.log"}' in text
    )
    assert "faststream_received_processed_messages_duration_seconds_bucket" in text
    assert 'pathways_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'pathways_http_request_duration_seconds_count{method="GET",route="/healthz"' in text
    assert "process_resident_memory_bytes" in text
    # Labels name subscriptions, never an incident (one series each would grow without end).
    assert incident_id not in text and "INC-" not in text
    assert up.get("/metrics").headers["content-type"].startswith("text/plain")


async def test_links_in_messages_open_the_console_by_default(up: Up) -> None:
    cli = Cli(up.nats_url)
    incident_id = log_incident(cli, "Links")

    def assigned() -> str | None:
        tasks = cli.json("task", "list", "--incident", incident_id, "--status", "assigned")
        return str(tasks[0]["assignee"]) if tasks else None

    person = wait_for(assigned, 20, "an assigned task")

    async def linked() -> str | None:
        items = await inbox_of(up.nats_url, person)
        links = [str(i["link"]) for i in items if incident_id in str(i.get("link"))]
        return links[0] if links else None

    link = await eventually(linked, 20, what="a notice with a link")
    assert link.startswith(f"{up.base}/tasks/{incident_id}."), link


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/readyz", 200),
        ("GET", "/metrics", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("GET", f"/nothing/{SECRET_ID}", 404),
        ("GET", "/docs", 404),
        ("POST", "/healthz", 405),
        ("HEAD", "/healthz", 405),
    ],
)
def test_every_answer_carries_the_security_headers(
    up: Up, method: str, path: str, status: int
) -> None:
    response = up.get(path, method)
    assert response.status_code == status, response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert response.headers["permissions-policy"].startswith("accelerometer=()")
    # The console is http here (PATHWAYS_PUBLIC_URL defaults to it): no HSTS.
    assert "strict-transport-security" not in response.headers
    assert "server" not in response.headers


def test_an_unknown_path_is_a_problem(up: Up) -> None:
    response = up.get(f"/api/v1/people/{SECRET_ID}?{SECRET_QUERY}")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "about:blank" and body["status"] == 404
    assert body["title"] == "Not Found" and body["code"] == "not_found"
    assert SECRET_ID not in response.text


def test_the_schema_is_served_and_swagger_is_not(up: Up) -> None:
    schema = up.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Pathways"
    assert "/readyz" in schema["paths"] and "/metrics" not in schema["paths"]
    assert up.get("/docs").status_code == 404 and up.get("/redoc").status_code == 404


def test_the_access_log_has_route_templates_and_no_path_values(up: Up) -> None:
    up.get(f"/healthz?{SECRET_QUERY}")
    up.get(f"/api/v1/tasks/{SECRET_ID}?{SECRET_QUERY}")

    def both_logged() -> list[dict[str, object]] | None:
        found = up.service.logged("http_request")
        routes = [(e["route"], e["status"]) for e in found]
        return found if ("/healthz", 200) in routes and ("unmatched", 404) in routes else None

    entries = wait_for(both_logged, 10, "both requests in the access log")
    for entry in entries:
        assert set(entry) == {"method", "route", "status", "ms", "event", "level", "timestamp"}
        assert entry["level"] == "info"
    log = up.service.log_text()
    assert SECRET_ID not in log and "s3cr3t" not in log
    assert "python-httpx" not in log  # no user agent


def test_ctrl_c_stops_up_while_clients_hold_connections_open(tmp_path: Path) -> None:
    http_port = free_port()
    service, _, _ = start_up(tmp_path, None, http_port)
    held: list[socket.socket] = []
    try:
        service.wait_started()
        # A kept-alive connection after a full answer, a request still arriving, and a body
        # that never comes: none of them may hold `pathways up` past its stop timeout.
        held.append(open_connection(http_port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"))
        assert held[0].recv(4096).startswith(b"HTTP/1.1 200")
        held.append(open_connection(http_port, b"GET /readyz HTTP/1.1\r\nHost: t\r\nX-Wait"))
        held.append(
            open_connection(
                http_port, b"POST /nothing HTTP/1.1\r\nHost: t\r\nContent-Length: 999\r\n\r\nab"
            )
        )
        # And a live stream, open until the gateway ends it.
        live = open_live_stream(service, http_port)
        held.append(live)
        time.sleep(0.3)
        started = time.monotonic()
        service.signal(signal.SIGINT)
        returncode = service.process.wait(STOP_TIMEOUT)
        took = time.monotonic() - started
        streamed = read_to_end(live)
    finally:
        for sock in held:
            sock.close()
        service.stop()
    assert returncode == 0, service.describe()
    assert took < STOP_TIMEOUT, f"took {took:.1f}s"
    for event in ("gateway_stopped", "services_stopped", "nats_stopped"):
        assert service.logged(event), (event, service.describe())
    assert not port_in_use(http_port), "the HTTP port is still held"
    assert not unexpected_tracebacks(service.log_text()), service.describe()
    # The stream was ended by the gateway (its last chunk sent), not cut off by the stop.
    assert streamed.endswith(b"0\r\n\r\n"), streamed[-200:]


def open_live_stream(service: Service, port: int) -> socket.socket:
    password = demo_password(service)
    assert password, service.describe()
    browser = Browser(console_address(service))
    try:
        assert browser.sign_in("renee.alvarez", password).status_code == 303
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    finally:
        browser.close()
    request = f"GET /live/board HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\n\r\n"
    sock = open_connection(port, request.encode())
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head, head
    return sock


def read_to_end(sock: socket.socket) -> bytes:
    received = b""
    with contextlib.suppress(TimeoutError, ConnectionError):
        while chunk := sock.recv(4096):
            received += chunk
    return received


def open_connection(port: int, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(sent)
    return sock


@pytest.mark.parametrize("command", ["up", "run gateway"])
def test_a_busy_port_is_one_line_and_nothing_starts(tmp_path: Path, command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "data"
        if command == "up":  # with its own NATS, which must not have been started
            argv = ["up", "--data-dir", str(data_dir), "--nats-port", str(free_port())]
            cli = Cli(None)
        else:
            argv = ["run", "gateway"]
            cli = Cli(f"nats://127.0.0.1:{free_port()}")
        result = cli(*argv, "--port", str(port), timeout=30)
    assert result.returncode == 1, str(result)
    assert result.error_lines == [
        f"error: cannot listen on 127.0.0.1:{port}: "
        "the port is in use (choose another with --port or PATHWAYS_PORT)"
    ], str(result)
    assert result.stdout == ""
    assert not data_dir.exists(), "NATS was started before the port was found busy"


async def test_run_gateway_is_ready_only_while_nats_is_connected(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    assert Cli(server.url)("migrate").returncode == 0
    http_port = free_port()
    env = process_env(PATHWAYS_PUBLIC_URL="https://pathways.pd.example.org")
    argv = ["run", "gateway", "--nats-url", server.url, "--port", str(http_port)]
    gateway = Service("gateway", argv, env, tmp_path)
    base = f"http://127.0.0.1:{http_port}"
    try:
        await gateway.started()
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            # Served over https (its public URL): browsers are told to keep to it.
            assert ready.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY

            await server.stop()
            down = await eventually(lambda: status_is(client, 503), 20, what="503 without NATS")
            assert down.headers["content-type"] == PROBLEM_MEDIA_TYPE
            assert down.json()["code"] == "unavailable"
            assert "nats_connected" in down.json()["detail"]
            assert (await client.get("/healthz")).status_code == 200  # alive all the same

            await server.start()
            await eventually(lambda: status_is(client, 200), 30, what="ready again")
    finally:
        gateway.stop()
        await server.stop()
    assert not unexpected_tracebacks(gateway.log_text()), gateway.describe()


async def status_is(client: httpx.AsyncClient, status: int) -> httpx.Response | None:
    response = await client.get("/readyz")
    return response if response.status_code == status else None
