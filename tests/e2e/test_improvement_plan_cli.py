"""The improvement plan from the command line, against a real `pathways up`: after an incident
closed, command staff record findings and give a corrective action; its owner completes it with
a note through the usual task command; the lists show it all in order; bad input and a
responder get one line and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.harness import Cli, log_incident

pytestmark = pytest.mark.e2e

COMMAND = ("--as", "renee.alvarez")
OWNER = "aisha.grant"


def test_findings_and_a_corrective_action_after_closing(cli: Cli) -> None:
    incident_id = log_incident(cli, "Improvement plan")
    cli.ok("incident", "close", incident_id, "--reason", "Response over", *COMMAND)
    add = ("review", "finding", "add", incident_id)
    first = cli.ok(*add, "--kind", "strength", "--text", "Families reached within the hour",
                   "--family", "victim_advocate", *COMMAND)  # fmt: skip
    assert first.stdout.startswith("Recorded finding f-") and "(strength)" in first.stdout
    cli.ok(*add, "--kind", "improvement", "--text", "No Vietnamese speaker on call",
           "--phase", "immediate", *COMMAND)  # fmt: skip
    listed = cli.json("review", "finding", "list", incident_id, *COMMAND)
    assert [(f["kind"], f["family"], f["phase"]) for f in listed] == [
        ("strength", "victim_advocate", None),
        ("improvement", None, "immediate"),
    ]
    text = cli.ok("review", "finding", "list", incident_id, *COMMAND).stdout
    assert text.index("1. strength") < text.index("2. area for improvement")

    due = f"{datetime.now(UTC) + timedelta(days=14):%Y-%m-%d}"
    given = cli.json("review", "action", "add", incident_id, "--text", "Recruit two advocates",
                     "--owner", OWNER, "--due", due, *COMMAND)  # fmt: skip
    task = given["task"]
    assert (task["assignee"], task["status"], task["phase"]) == (
        OWNER,
        "assigned",
        "improvement-plan",
    )
    cli.ok("task", "complete", task["id"], "--note", "Two advocates recruited", "--as", OWNER)
    [action] = cli.json("review", "action", "list", incident_id, *COMMAND)
    assert (action["status"], action["note"], action["owner"]) == (
        "completed", "Two advocates recruited", OWNER,
    )  # fmt: skip
    shown = cli.ok("review", "action", "list", incident_id, *COMMAND).stdout
    assert f"{task['id']} · completed · owner {OWNER}" in shown
    assert "note: Two advocates recruited" in shown


def test_bad_input_and_a_responder_get_one_line_and_change_nothing(cli: Cli) -> None:
    incident_id = log_incident(cli, "Improvement plan refusals")
    action = ("review", "action", "add", incident_id, "--text", "Fix it")
    refused = {
        "unknown owner": cli(*action, "--owner", "aisha.grnt", "--due", "2099-01-01", *COMMAND),
        "past date": cli(*action, "--owner", OWNER, "--due", "2020-01-01", *COMMAND),
        "unknown phase": cli("review", "finding", "add", incident_id, "--kind", "strength",
                             "--text", "Fine", "--phase", "no-such", *COMMAND),
        "responder": cli("review", "finding", "add", incident_id, "--kind", "strength",
                         "--text", "Fine", "--as", OWNER),
    }  # fmt: skip
    for why, result in refused.items():
        assert result.returncode == 1, (why, result)
        assert len(result.error_lines) == 1 and "Traceback" not in result.stderr, (why, result)
    assert "did you mean aisha.grant" in refused["unknown owner"].stderr
    assert "has passed" in refused["past date"].stderr
    assert "immediate" in refused["unknown phase"].stderr
    assert "only command staff and reviewers" in refused["responder"].stderr
    assert cli.json("review", "finding", "list", incident_id, *COMMAND) == []
    assert cli.json("review", "action", "list", incident_id, *COMMAND) == []
