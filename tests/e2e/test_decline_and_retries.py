"""Declining hands a task to the next person in the role; a retried command applies once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.harness import (
    Cli,
    log_incident,
    playbook_tasks,
    roster_holders,
    wait_for,
    wait_for_tasks,
)

pytestmark = pytest.mark.e2e


def test_a_declined_task_goes_to_another_holder_of_the_same_role(cli: Cli) -> None:
    incident_id = log_incident(cli, "Decline")
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    task = next(t for t in tasks if t["role"] == "community_liaison" and t["status"] == "assigned")
    first = task["assignee"]

    declined = cli.json(
        "task", "decline", task["id"], "--as", first, "--reason", "On leave this week"
    )
    assert declined["changed"] is True
    assert declined["task"]["status"] == "unassigned"
    assert declined["task"]["declined_by"] == [first]

    def reassigned() -> dict[str, Any] | None:
        listed = cli.json("task", "list", "--incident", incident_id)
        now = next(t for t in listed if t["id"] == task["id"])
        return now if now["assignee"] not in (None, first) else None

    after = wait_for(reassigned, 20, f"{task['id']} to be reassigned", 0.2)
    assert after["status"] == "assigned"
    assert after["role"] == "community_liaison"
    assert after["assignee"] in roster_holders()["community_liaison"]
    assert after["declined_by"] == [first]

    # The new holder can work it; the one who declined no longer can.
    refused = cli("task", "ack", task["id"], "--as", first)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, str(refused)
    acked = cli.json("task", "ack", task["id"], "--as", after["assignee"])
    assert acked["task"]["status"] == "acknowledged"


def test_a_retried_command_with_the_same_request_id_changes_nothing_twice(cli: Cli) -> None:
    request_id = uuid.uuid4().hex
    argv = ["--request-id", request_id, "--as", "renee.alvarez", "--json"]
    first = cli.ok(
        "incident", "log", "--type", "officer-involved-shooting", "--title", "Retried", *argv
    ).json()
    again = cli.ok(
        "incident", "log", "--type", "officer-involved-shooting", "--title", "Retried", *argv
    ).json()
    incident_id = first["incident"]["id"]
    assert first["changed"] is True
    assert again["changed"] is False
    assert again["incident"]["id"] == incident_id
    assert again["incident"]["logged_at"] == first["incident"]["logged_at"]

    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    listed = [i["id"] for i in cli.json("incident", "list")]
    assert listed.count(incident_id) == 1

    task = next(t for t in tasks if t["status"] == "assigned")
    ack_id = uuid.uuid4().hex
    acked = cli.json("task", "ack", task["id"], "--as", task["assignee"], "--request-id", ack_id)
    retried = cli.json("task", "ack", task["id"], "--as", task["assignee"], "--request-id", ack_id)
    assert acked["changed"] is True
    assert retried["changed"] is False
    assert retried["task"]["status"] == "acknowledged"

    entries = cli.json("timeline", incident_id)["entries"]
    types = [e["type"] for e in entries]
    assert types.count("incident.logged") == 1
    assert types.count("playbook.triggered") == 1
    acks = [e for e in entries if e["type"] == "task.acknowledged"]
    assert [e["task"] for e in acks] == [task["id"]]
