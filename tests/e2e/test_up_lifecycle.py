"""`pathways up`: refuses a busy port or a data directory in use clearly, runs on any directory
name, and never leaves its nats-server behind."""

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
    Service,
    nats_server_children,
    nats_server_running,
    process_env,
    start_up,
    unexpected_tracebacks,
    up_ports,
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
        argv = ["up", "--data-dir", str(tmp_path / "data"), "--nats-port", str(port), *up_ports()]
        result = Cli(None)(*argv, timeout=20)
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


def test_a_second_up_on_the_same_data_dir_is_refused_naming_the_first(tmp_path: Path) -> None:
    first, url, data_dir = start_up(tmp_path)
    try:
        first.wait_started()
        argv = ["up", "--data-dir", str(data_dir), "--nats-port", str(free_port()), *up_ports()]
        second = Cli(None)(*argv, timeout=20)
        assert second.returncode == 1, str(second)
        assert "Traceback" not in second.stderr, str(second)
        assert len(second.error_lines) == 1, str(second)
        line = second.error_lines[0]
        assert f"pid {first.pid} (" in line and " up --data-dir " in line, line
        # The first is undisturbed: still running, still answering, its server still its own.
        assert first.process.poll() is None, first.describe()
        assert Cli(url).ok("playbook", "list").returncode == 0
        assert len(nats_server_children(first.pid)) == 1, first.describe()
    finally:
        first.stop()


def test_the_data_dir_lock_dies_with_its_holder(tmp_path: Path) -> None:
    (tmp_path / "first").mkdir()
    first, _, data_dir = start_up(tmp_path / "first")
    try:
        first.wait_started()
        server = nats_server_children(first.pid)[0]
        first.kill()  # no chance to clean up: the lock file still names it
        wait_for(lambda: not nats_server_running(server), STOP_TIMEOUT, "the first nats-server")
    finally:
        first.stop()
    second = Service(
        "up-again",
        ["up", "--data-dir", str(data_dir), "--nats-port", str(free_port()), *up_ports()],
        process_env(),
        tmp_path,
    )
    try:
        second.wait_started()
    finally:
        second.stop()


def test_up_runs_on_a_data_dir_whose_name_the_config_language_would_misread(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / 'odd "name" \\ $HOME #not-a-comment données'
    port = free_port()
    service = Service(
        "up-odd",
        ["up", "--data-dir", str(data_dir), "--nats-port", str(port), *up_ports()],
        process_env(),
        tmp_path,
    )
    try:
        service.wait_started()
        incident = Cli(f"nats://127.0.0.1:{port}").json(
            "incident", "log", "--type", "hate-crime", "--title", "t", "--as", "renee.alvarez"
        )
        assert incident["incident"]["id"]
        # The store is where it was asked to be, not at a name the config parser mangled.
        assert (
            data_dir / "jetstream" / "jetstream" / "$G" / "streams" / "PATHWAYS_EVENTS"
        ).is_dir()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([data_dir.name, "up-odd.log"])
    finally:
        service.stop()
