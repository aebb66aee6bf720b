"""Undoing a playbook triggered by mistake, from the CLI: its tasks are cancelled, none of its
follow-ups fires later, and the right playbook runs after it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.harness import Cli, log_incident, playbook_tasks, wait_for, wait_for_tasks

pytestmark = pytest.mark.e2e

FIRST_FOLLOW_UP = 7 * 86400 * 0.00005  # seconds after logging: victim-family-contact's P7D


def test_a_mistaken_playbook_is_cancelled_and_another_triggered(cli: Cli) -> None:
    # At 0.00005 a day passes in 4.3 s: the 7-day follow-up would come due 30 s after logging.
    logged_at = time.monotonic()
    incident_id = log_incident(cli, "Wrong playbook", "--exercise", "--time-scale", "0.00005")
    first = wait_for_tasks(cli, incident_id, len(playbook_tasks()))

    refused = cli("playbook", "cancel", incident_id, "--reason", "x", "--as", "dana.reyes")
    assert refused.returncode == 1, str(refused)
    assert refused.error_lines == [
        "error: only command staff cancel a playbook; dana.reyes is not command staff"
    ], str(refused)

    cancelled = cli.ok(
        "playbook", "cancel", incident_id, "--reason", "Logged as the wrong type",
        "--as", "renee.alvarez",
    )  # fmt: skip
    open_before = sum(t["status"] not in ("skipped", "completed") for t in first)
    assert (
        f"Cancelled playbook officer-involved-shooting on {incident_id}: {open_before} open "
        "task(s) cancelled"
    ) in " ".join(cancelled.stdout.split()), cancelled.stdout
    assert f"pathways playbook trigger {incident_id}" in cancelled.stdout
    again = cli.json(
        "playbook", "cancel", incident_id, "--reason", "again", "--as", "renee.alvarez"
    )
    assert again["changed"] is False

    after = cli.json("task", "list", "--incident", incident_id)
    assert all(t["status"] in ("cancelled", "skipped") for t in after), after
    shown = cli.ok("incident", "show", incident_id).stdout
    assert "playbook officer-involved-shooting cancelled" in shown, shown
    assert "Logged as the wrong type" in shown

    triggered = cli.json(
        "playbook", "trigger", incident_id, "use-of-force-unrest", "--as", "renee.alvarez"
    )
    assert (triggered["run"], triggered["changed"]) == (2, True)

    def second_run() -> list[dict[str, Any]] | None:
        tasks: list[dict[str, Any]] = cli.json("task", "list", "--incident", incident_id)
        run = [t for t in tasks if t["run"] == 2 and not t["follow_up_of"]]
        return run if len(run) == triggered["tasks"] else None

    tasks = wait_for(second_run, 20, "the second run's tasks", 0.3)
    assert all(t["key"].endswith("-r2") for t in tasks), tasks
    shown = cli.ok("incident", "show", incident_id).stdout
    assert f"{len(first)} task(s) of cancelled playbook runs not shown" in shown, shown
    listed = cli.json("incident", "list")
    mine = next(i for i in listed if i["id"] == incident_id)
    assert (mine["playbook"], mine["playbook_run"]) == ("use-of-force-unrest", 2)

    time.sleep(max(0.0, logged_at + FIRST_FOLLOW_UP + 4 - time.monotonic()))
    late = [
        t
        for t in cli.json("task", "list", "--incident", incident_id)
        if t["run"] == 1 and t["follow_up_of"]
    ]
    assert late == [], "a follow-up of the cancelled run fired"
    timeline = cli.ok("timeline", incident_id).stdout
    assert "renee.alvarez cancelled playbook officer-involved-shooting" in timeline, timeline
    assert "cancelled: its playbook was cancelled" in timeline
