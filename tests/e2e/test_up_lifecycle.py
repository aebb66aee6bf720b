"""`pathways up`: refuses a busy port clearly, and never leaves its nats-server behind."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest

from services.core.embedded import port_in_use
from tests.e2e.harness import (
    STOP_TIMEOUT,
    Cli,
    nats_server_children,
    nats_server_running,
    start_up,
    unexpected_tracebacks,
    wait_for,
)
from tests.support import free_port

pytestmark = pytest.mark.e2e


def test_up_on_a_port_in_use_exits_quickly_with_one_line_naming_the_port(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = Cli(None)(
            "up", "--data-dir", str(tmp_path / "data"), "--nats-port", str(port), timeout=20
        )
        elapsed = time.monotonic() - started
    assert result.returncode != 0, str(result)
    assert elapsed < 10, f"took {elapsed:.1f}s to refuse"
    assert "Traceback" not in result.stderr, str(result)
    assert len(result.error_lines) == 1, str(result)
    assert f"port {port}" in result.error_lines[0], str(result)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_up_stops_on_a_signal_and_takes_its_nats_server_with_it(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    service, url, _ = start_up(tmp_path, port)
    try:
        service.wait_started()
        servers = nats_server_children(service.pid)
        assert len(servers) == 1, f"expected one nats-server child; {service.describe()}"
        server = servers[0]
        assert Cli(url).ok("playbook", "list").returncode == 0

        service.signal(sig)
        returncode = service.process.wait(STOP_TIMEOUT)
        assert returncode == 0, service.describe()
        assert not nats_server_running(server), f"nats-server {server} outlived `pathways up`"
        assert not port_in_use(port), f"port {port} still held after `pathways up` stopped"
        assert service.logged("services_stopped"), service.describe()
        assert service.logged("nats_stopped"), service.describe()
        assert not unexpected_tracebacks(service.log_text()), service.describe()
    finally:
        service.stop()


def test_up_killed_outright_still_takes_its_nats_server_with_it(tmp_path: Path) -> None:
    service, _, _ = start_up(tmp_path)
    try:
        service.wait_started()
        servers = nats_server_children(service.pid)
        assert len(servers) == 1, f"expected one nats-server child; {service.describe()}"
        server = servers[0]
        service.kill()
        wait_for(
            lambda: not nats_server_running(server),
            STOP_TIMEOUT,
            f"nats-server {server} to exit after `pathways up` was SIGKILLed",
        )
    finally:
        service.stop()
