"""`pathways up` works from any directory: the shipped library and example roster are used
when the working directory has none, and the banner comes once the services answer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import PATHWAYS, Cli, process_env, up_ports, wait_for
from tests.support import free_port

pytestmark = pytest.mark.e2e


def test_up_outside_the_repository_uses_the_shipped_library(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [str(PATHWAYS), "up", "--nats-port", str(port), *up_ports(), "--log-format", "json"],
            cwd=tmp_path,
            env=process_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        banner = wait_for(lambda: "Pathways is up" in log.read_text(), 60, "the banner", 0.2)
        assert banner
        lines = log.read_text().splitlines()
        assert any(line.startswith("Playbooks: 6 from ") for line in lines), lines
        up_at = next(i for i, line in enumerate(lines) if "Pathways is up" in line)
        created = [i for i, line in enumerate(lines) if line.startswith("stream PATHWAYS_")]
        assert created and max(created) < up_at, "the banner came before the streams were set up"
        cli = Cli(f"nats://127.0.0.1:{port}")
        books = cli.json("playbook", "list")
        assert len(books) == 6, books  # answering as soon as the banner is out
    finally:
        up.terminate()
        up.wait(30)


def test_validate_without_arguments_outside_the_repository_checks_the_shipped_library(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [str(PATHWAYS), "playbook", "validate"],
        cwd=tmp_path,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok  ") == 6
