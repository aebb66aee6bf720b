"""No dead ends: when everyone who could take a task declines, the CLI says so, the incident
shows it needs command attention, and command staff assign it; anyone can read the task."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import Cli, log_incident, playbook_tasks, wait_for, wait_for_tasks

pytestmark = pytest.mark.e2e


def current(cli: Cli, task_id: str) -> dict[str, Any]:
    found: dict[str, Any] = cli.json("task", "show", task_id)
    return found


def unassigned_in_list(cli: Cli, incident_id: str) -> int:
    listed = cli.json("incident", "list", "--limit", "200")
    count: int = next(i for i in listed if i["id"] == incident_id)["unassigned_tasks"]
    return count


def test_a_task_everyone_declined_is_flagged_and_command_staff_assign_it(cli: Cli) -> None:
    incident_id = log_incident(cli, "Everyone declines")
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    task = next(t for t in tasks if t["role"] == "public_information")
    declined: list[str] = []
    last: Any = None
    while (holder := current(cli, task["id"])["assignee"]) is not None:
        last = cli.ok("task", "decline", task["id"], "--as", holder, "--reason", "Off shift")
        declined.append(holder)
        wait_for(
            lambda h=holder: current(cli, task["id"])["assignee"] != h,  # type: ignore[misc]
            20,
            "the task to move on",
            0.2,
        )
    assert len(declined) >= 2, declined
    assert "Nobody else can take it" in last.stdout, str(last)
    assert f"pathways task assign {task['id']}" in last.stdout

    shown = cli.ok("incident", "show", incident_id)
    assert f"NEEDS COMMAND ATTENTION: 1 task(s) with nobody to take them: {task['id']}" in (
        shown.stdout
    ), str(shown)
    assert cli.json("incident", "show", incident_id)["needs_attention"] == [task["id"]]
    wait_for(lambda: unassigned_in_list(cli, incident_id) == 1, 20, "the list to flag it", 0.2)
    listed = cli.ok("incident", "list").stdout
    assert "NEEDS ATTENTION: 1 unassigned" in listed, listed
    assert "1 incident(s) need command attention" in listed, listed

    refused = cli("task", "assign", task["id"], "--to", "dana.reyes", "--as", "renee.alvarez")
    assert refused.returncode == 1
    assert refused.error_lines == [
        f"error: cannot assign {task['id']}: dana.reyes does not hold the role "
        "public_information (holds: community_liaison)"
    ], str(refused)
    assigned = cli.json("task", "assign", task["id"], "--to", declined[0], "--as", "renee.alvarez")
    assert (assigned["task"]["assignee"], assigned["task"]["status"]) == (declined[0], "assigned")
    assert "NEEDS COMMAND ATTENTION" not in cli.ok("incident", "show", incident_id).stdout
    wait_for(lambda: unassigned_in_list(cli, incident_id) == 0, 20, "the flag to clear", 0.2)

    text = cli.ok("task", "show", task["id"]).stdout
    assert text.splitlines()[0] == task["id"]
    assert f"assignee {declined[0]}" in text and "Instructions" in text
