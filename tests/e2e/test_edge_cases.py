"""Edge cases found by using the CLI: declines before prerequisites, verbatim text, bad settings,
stopping while NATS is unreachable."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    Cli,
    Service,
    log_incident,
    playbook_tasks,
    process_env,
    up_ports,
    wait_for,
    wait_for_tasks,
)
from tests.support import free_port

pytestmark = pytest.mark.e2e


def test_declining_a_waiting_task_keeps_it_waiting_for_its_prerequisites(cli: Cli) -> None:
    incident_id = log_incident(cli, "Decline while waiting")
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    by_key = {t["key"]: t for t in tasks}
    task = next(t for t in tasks if t["status"] == "waiting" and t["assignee"])
    prerequisites = task["depends_on"]
    assert all(by_key[k]["status"] != "completed" for k in prerequisites)

    cli.json("task", "decline", task["id"], "--as", task["assignee"], "--reason", "Away")

    def handed_on() -> dict[str, Any] | None:
        listed = cli.json("task", "list", "--incident", incident_id)
        now: dict[str, Any] = next(t for t in listed if t["id"] == task["id"])
        return now if now["assignee"] not in (None, task["assignee"]) else None

    after = wait_for(handed_on, 20, f"{task['id']} to go to someone else", 0.2)
    assert after["status"] == "waiting", (
        f"{task['id']} is {after['status']} although {prerequisites} are not completed"
    )


def test_the_timeline_reproduces_titles_and_notes_verbatim(cli: Cli) -> None:
    title = "Shooting near :cop: station"
    incident_id = log_incident(cli, title)
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    task = next(t for t in tasks if t["tier"] == "public" and t["status"] == "assigned")
    note = "Statement out :thumbs_up: on all channels"
    cli.json("task", "complete", task["id"], "--as", task["assignee"], "--note", note)

    timeline = cli.json("timeline", incident_id)
    completed = next(e for e in timeline["entries"] if e["type"] == "task.completed")
    assert timeline["incident"]["title"] == title
    assert completed["note"] == note


def test_up_with_an_invalid_port_is_a_one_line_error(tmp_path: Path) -> None:
    result = Cli(None)(
        "up", "--data-dir", str(tmp_path), "--nats-port", "70000", *up_ports(), timeout=20
    )
    assert result.returncode != 0, str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert len(result.error_lines) == 1, str(result)


def test_run_stops_on_sigterm_while_nats_is_unreachable(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    service = Service("engine", ["run", "engine"], process_env(PATHWAYS_NATS_URL=url), tmp_path)
    try:
        time.sleep(1.5)  # started, and trying to connect
        service.signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while service.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service.process.poll() is not None, f"still running 5 s after SIGTERM; {url}"
    finally:
        service.kill()
        service.stop()
