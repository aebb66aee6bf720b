"""Closing an incident ends its response: open tasks cancelled, nothing pending fires later,
and the timeline says who closed it and why — for an exercise too."""

from __future__ import annotations

import time

import pytest

from tests.e2e.harness import Cli, log_incident, playbook_tasks, wait_for, wait_for_tasks

pytestmark = pytest.mark.e2e


def test_closing_an_exercise_cancels_its_tasks_and_stops_its_follow_ups(cli: Cli) -> None:
    # At 0.00005 a day passes in 4.3 s: the 7-day follow-up would come due 30 s after logging.
    logged_at = time.monotonic()
    incident_id = log_incident(cli, "Drill to end", "--exercise", "--time-scale", "0.00005")
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    open_task = next(t for t in tasks if t["status"] == "assigned")

    refused = cli("incident", "close", incident_id, "--reason", "x", "--as", "dana.reyes")
    assert refused.returncode == 1 and "only command staff" in refused.stderr, str(refused)
    closed = cli.ok(
        "incident", "close", incident_id, "--reason", "Drill over", "--as", "renee.alvarez"
    )
    assert f"Closed {incident_id}" in closed.stdout
    again = cli.json("incident", "close", incident_id, "--reason", "again", "--as", "renee.alvarez")
    assert again["changed"] is False

    def all_ended() -> list[dict[str, object]] | None:
        listed: list[dict[str, object]] = cli.json("task", "list", "--incident", incident_id)
        done = all(t["status"] in ("cancelled", "skipped", "completed") for t in listed)
        return listed if done else None

    ended = wait_for(all_ended, 30, "every task cancelled", 0.3)
    shown = cli.json("incident", "show", incident_id)
    assert (shown["status"], shown["closed_by"], shown["close_reason"]) == (
        "closed",
        "renee.alvarez",
        "Drill over",
    )
    acted = cli("task", "ack", open_task["id"], "--as", open_task["assignee"])
    assert acted.returncode == 1 and "cancelled" in acted.stderr, str(acted)

    assert time.monotonic() - logged_at < 30, "closed too late to prove anything"
    time.sleep(max(0.0, logged_at + 34 - time.monotonic()))  # past the first follow-up
    after = cli.json("task", "list", "--incident", incident_id)
    assert [t["id"] for t in after] == [t["id"] for t in ended], "a follow-up fired after close"
    timeline = cli.ok("timeline", incident_id).stdout
    assert "renee.alvarez closed the incident" in timeline and "Drill over" in timeline
