"""Deadlines survive everything stopping: `pathways up` and its NATS server are SIGKILLed after
the tasks are assigned and started again after the deadline; each escalation step then runs
exactly once, in order."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.harness import (
    Cli,
    Service,
    log_incident,
    nats_server_children,
    process_env,
    start_up,
    up_ports,
    wait_for,
    wait_for_tasks,
)
from tests.support import free_port

pytestmark = pytest.mark.e2e

TASK = "officer-family-support"  # peer support, acknowledge within an hour
DEADLINE = 15.0  # seconds after logging, at this time scale
SCALE = DEADLINE / 3600
STEP = re.compile(r"^Escalation step (\d+) for (\S+) \(not acknowledged in time\): (\w+)")


def acknowledge_steps(cli: Cli, incident_id: str) -> list[tuple[int, str]]:
    entries = cli.json("timeline", incident_id)["entries"]
    found = []
    for entry in entries:
        match = STEP.match(entry["text"])
        if entry["type"] == "task.escalated" and match and match[2] == TASK:
            found.append((int(match[1]), match[3]))
    return found


def test_escalation_steps_run_once_each_after_everything_was_killed(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "first").mkdir()
    up, url, _ = start_up(tmp_path / "first", port)
    cli = Cli(url)
    data_dir = tmp_path / "first" / "data"
    try:
        up.wait_started()
        logged_at = time.monotonic()
        incident_id = log_incident(
            cli, "Deadlines through a crash", "--exercise", "--time-scale", f"{SCALE:.8f}"
        )
        tasks = {t["key"]: t for t in wait_for_tasks(cli, incident_id, 17)}
        first = tasks[TASK]["assignee"]
        assert first and time.monotonic() - logged_at < DEADLINE - 3, "too slow to prove it"
    finally:
        for child in nats_server_children(up.pid):
            os.kill(child, signal.SIGKILL)
        up.kill()
        up.stop()

    # Everything is down while the deadline and the first three steps (15 minutes apart,
    # scaled) pass.
    time.sleep(max(0.0, logged_at + DEADLINE + 10 - time.monotonic()))
    again = start_up_at(tmp_path / "second", data_dir, port)
    try:
        again.wait_started()
        wait_for(
            lambda: len(acknowledge_steps(cli, incident_id)) >= 4 or None,
            60,
            "four escalation steps",
            0.5,
        )
        time.sleep(3)  # a step run twice would show by now
        steps = acknowledge_steps(cli, incident_id)
        assert steps == [
            (1, "reminded"),
            (2, "told"),
            (3, "reassigned"),
            (4, "told"),
        ], steps
        moved = cli.json("task", "show", f"{incident_id}.{TASK}")
        assert moved["assignee"] != first
    finally:
        again.stop()


def start_up_at(log_dir: Path, data_dir: Path, port: int) -> Service:
    """`pathways up` again on the same data directory and port."""
    log_dir.mkdir(parents=True, exist_ok=True)
    return Service(
        "up",
        ["up", "--data-dir", str(data_dir), "--nats-port", str(port), *up_ports()],
        process_env(),
        log_dir,
    )
