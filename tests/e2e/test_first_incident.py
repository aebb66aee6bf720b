"""The scenario a new user runs: log an incident, work every task, read the timeline."""

from __future__ import annotations

import time
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

HEALING_ROLES = ("community_liaison", "victim_advocate", "peer_support")
WORK_TIMEOUT = 90.0
# A required task is satisfied once completed, or skipped because its `when` condition does not
# hold for the incident.
SATISFIED = ("completed", "skipped")


def work_every_task(cli: Cli, incident_id: str) -> dict[str, tuple[str, str]]:
    """Act as each assignee: ack, then complete with a note, every task that is out of
    `waiting`, until every required task is completed (or skipped).
    Returns task id -> (tier, note)."""
    notes: dict[str, tuple[str, str]] = {}
    deadline = time.monotonic() + WORK_TIMEOUT
    while True:
        tasks: list[dict[str, Any]] = cli.json("task", "list", "--incident", incident_id)
        if all(t["status"] in SATISFIED for t in tasks if t["required"]):
            return notes
        ready = [
            t for t in tasks if t["status"] not in ("waiting", *SATISFIED) and t["id"] not in notes
        ]
        for task in ready:
            assignee = task["assignee"]
            assert assignee, f"{task['id']} is {task['status']} with nobody to act"
            acked = cli.json("task", "ack", task["id"], "--as", assignee)
            assert acked["changed"] is True
            assert acked["task"]["status"] == "acknowledged"
            note = f"e2e note for {task['key']} {uuid.uuid4().hex}"
            done = cli.json("task", "complete", task["id"], "--as", assignee, "--note", note)
            assert done["changed"] is True
            assert done["task"]["status"] == "completed"
            notes[task["id"]] = (task["tier"], note)
        if not ready:
            # The engine releases dependants and the projector catches up asynchronously.
            assert time.monotonic() < deadline, f"tasks stuck: {tasks}"
            time.sleep(0.2)


def test_new_user_logs_an_incident_works_every_task_and_reads_a_redacted_timeline(
    cli: Cli,
) -> None:
    planned = playbook_tasks()
    conditional = {p["key"] for p in planned if p.get("when")}

    incident_id = log_incident(cli, "Officer-involved shooting, 400 block of Elm St")
    tasks = wait_for_tasks(cli, incident_id, len(planned))
    assert sorted(t["key"] for t in tasks) == sorted(p["key"] for p in planned)
    assert all(t["incident"] == incident_id for t in tasks)
    # Logged without attributes: only tasks with a `when` condition may be skipped.
    skipped = {t["key"] for t in tasks if t["status"] == "skipped"}
    assert skipped <= conditional
    active = [t for t in tasks if t["status"] != "skipped"]
    assert len(active) >= 16, f"the playbook as shipped starts 16 tasks, got {len(active)}"

    holders = roster_holders()
    for role in HEALING_ROLES:
        of_role = [t for t in active if t["role"] == role]
        assert of_role, f"no {role} task"
        for task in of_role:
            assert task["assignee"] in holders[role], task

    notes = work_every_task(cli, incident_id)
    required = {t["id"] for t in active if t["required"]}
    assert required <= notes.keys()

    def response_complete() -> dict[str, Any] | None:
        shown: dict[str, Any] = cli.json("incident", "show", incident_id)
        return shown if shown["status"] == "response_complete" else None

    shown = wait_for(response_complete, 20, f"{incident_id} to be response_complete", 0.2)
    assert shown["id"] == incident_id
    assert shown["playbook"] == "officer-involved-shooting"
    assert shown["task_count"] == len(planned)
    assert shown["response_completed_at"] is not None
    assert len(shown["tasks"]) == len(planned)

    text = cli.ok("timeline", incident_id).stdout
    assert "Response complete" in text

    result = cli.ok("timeline", incident_id, "--json")
    timeline = result.json()
    entries: list[dict[str, Any]] = timeline["entries"]
    assert timeline["incident"]["status"] == "response_complete"
    assert entries[0]["type"] == "incident.logged"
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    assert [e["type"] for e in entries].count("response.completed") == 1

    completions = {e["task"]: e for e in entries if e["type"] == "task.completed"}
    assert completions.keys() == notes.keys()
    restricted = 0
    for task_id, (tier, note) in notes.items():
        entry = completions[task_id]
        if tier == "restricted":
            restricted += 1
            assert entry["redacted"] is True, entry
            assert entry["note"] != note
            assert note not in result.stdout
            assert note not in text
        else:
            assert entry["redacted"] is False, entry
            assert entry["note"] == note
    assert restricted > 0, "the playbook has restricted tasks; none were checked"
