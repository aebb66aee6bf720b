"""A reviewer reads a real incident's timeline: T+ agrees with the events' own times as stored,
the filters keep exactly what they name, the HTML file loads nothing from elsewhere, the activity
log of a person lists exactly what they did, and restricted text appears in none of it."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import subjects
from services.core.broker import connect
from tests.e2e.harness import Cli, Stack, log_incident, playbook_tasks, wait_for_tasks
from tests.raw_reads import every_message

pytestmark = pytest.mark.e2e

HIDDEN = "[restricted: visible to Peer Support Team only]"
MD_HIDDEN = HIDDEN.replace("[", "\\[").replace("]", "\\]")  # as Markdown shows it
FORMATS = ("text", "json", "md", "html")


def given_to(cli: Cli, tasks: list[Any], key: str, person: str) -> str:
    """The task, assigned to `person` by command staff (whoever the rotation chose)."""
    found: str = next(t["id"] for t in tasks if t["key"] == key)
    if next(t["assignee"] for t in tasks if t["key"] == key) != person:
        cli.ok("task", "assign", found, "--to", person, "--as", "renee.alvarez")
    return found


def run_an_incident(cli: Cli, canary: str) -> tuple[str, list[Any]]:
    """Kim acknowledges and completes the statement with a note, Marcus declines his briefing,
    Aisha takes the defusing and writes a restricted note on it."""
    incident_id = log_incident(cli, "Review <script>alert(1)</script> & notes")
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    statement = given_to(cli, tasks, "public-initial-statement", "kim.liu")
    cli.ok("task", "ack", statement, "--as", "kim.liu")
    cli.ok("task", "complete", statement, "--as", "kim.liu", "--note", "Statement | *posted*")
    briefing = given_to(cli, tasks, "community-leader-briefing", "marcus.bell")
    cli.ok("task", "decline", briefing, "--as", "marcus.bell", "--reason", "On leave")
    defusing = given_to(cli, tasks, "peer-support-defusing", "aisha.grant")
    cli.ok("task", "ack", defusing, "--as", "aisha.grant")
    cli.ok(
        "task", "note", defusing, "--as", "aisha.grant", "--tier", "restricted", "--text", canary
    )
    return incident_id, tasks


async def stored_times(url: str, incident_id: str) -> dict[int, datetime]:
    """Each of the incident's events' own time, read straight from the stream, by sequence."""
    nc = await connect(url, name="e2e-review-read")
    try:
        messages = await every_message(nc.jetstream())
    finally:
        await nc.close()
    return {
        m.seq: datetime.fromisoformat(json.loads(m.data)["at"])
        for m in messages
        if m.stream == subjects.EVENTS_STREAM
        and m.subject.startswith(subjects.incident_events(incident_id).rstrip(">"))
    }


@pytest.fixture(scope="module")
def worked(cli: Cli) -> tuple[str, str]:
    """One incident run for the tests below to read: its id and the restricted note's text."""
    canary = f"CANARY-{uuid.uuid4()}"
    return run_an_incident(cli, canary)[0], canary


def involves(entry: dict[str, Any], person: str) -> bool:
    return person in (entry["actor"], entry["assignee"], entry["note_by"])


async def test_a_reviewer_reads_the_timeline_filtered_timed_and_as_one_html_file(
    cli: Cli, stack: Stack, tmp_path: Path, worked: tuple[str, str]
) -> None:
    incident_id, _ = worked

    full = cli.ok("timeline", incident_id, "--format", "json").json()
    times = await stored_times(stack.nats_url, incident_id)
    logged_at = next(t for seq, t in times.items() if seq == full["entries"][0]["seq"])
    assert full["entries"][0]["type"] == "incident.logged"
    for entry in full["entries"]:
        expected = (times[entry["seq"]] - logged_at).total_seconds()
        assert entry["elapsed_seconds"] == pytest.approx(expected, abs=0.001), entry
    assert any(e["elapsed_seconds"] > 0 for e in full["entries"])

    roles = cli.ok("timeline", incident_id, "--json", "--role", "public_information").json()
    assert {e["role"] for e in roles["entries"]} == {"public_information"}
    kims = [(e["type"], e["actor"]) for e in roles["entries"] if e["actor"] == "kim.liu"]
    assert kims == [("task.acknowledged", "kim.liu"), ("task.completed", "kim.liu")]
    assert [e for e in full["entries"] if e["role"] == "public_information"] == roles["entries"]

    marcus = cli.ok("timeline", incident_id, "--json", "--person", "marcus.bell").json()
    assert marcus["entries"] and all(involves(e, "marcus.bell") for e in marcus["entries"])
    assert [e for e in full["entries"] if involves(e, "marcus.bell")] == marcus["entries"]
    assert "task.declined" in [e["type"] for e in marcus["entries"]]

    page = tmp_path / "timeline.html"
    written = cli.ok("timeline", incident_id, "--format", "html", "--out", str(page))
    assert written.stdout == "" and f"Wrote {page}" in written.stderr
    html = page.read_text()
    assert (
        html.startswith("<!doctype html>") and "kim.liu completed public-initial-statement" in html
    )
    assert re.search(r"https?:|//|\bsrc=|\bhref=|url\(", html) is None
    assert "<script>" not in html and "&lt;script&gt;" in html

    wrong = cli("timeline", incident_id, "--type", "finished")
    assert wrong.returncode == 2 and len(wrong.error_lines) == 1, str(wrong)
    assert "task.completed" in wrong.stderr  # the choices are named


def test_a_persons_activity_log_lists_exactly_what_they_did(
    cli: Cli, worked: tuple[str, str]
) -> None:
    incident_id, _ = worked
    full = cli.ok("timeline", incident_id, "--json").json()
    log = cli.ok("review", "activity", incident_id, "--person", "kim.liu", "--format", "json")
    (kim,) = log.json()["people"]
    assert kim["person"] == "kim.liu" and kim["name"] == "Kim Liu"
    assert kim["positions"] == ["Public information officer"]
    assert kim["agency"] == "Example City Police Department"
    own = [e for e in full["entries"] if "kim.liu" in (e["actor"], e["note_by"])]
    assert kim["activities"] == own
    assert [e["type"] for e in own] == ["task.acknowledged", "task.completed"]

    everyone = cli.ok("review", "activity", incident_id, "--format", "json").json()["people"]
    assert {p["person"] for p in everyone} >= {
        "renee.alvarez",
        "kim.liu",
        "marcus.bell",
        "aisha.grant",
    }
    text = cli.ok("review", "activity", incident_id, "--person", "marcus.bell").stdout
    assert "Marcus Bell (marcus.bell)" in text and "marcus.bell declined" in text
    assert "kim.liu" not in text

    unknown = cli("review", "activity", incident_id, "--person", "no.such.person")
    assert unknown.returncode == 2 and len(unknown.error_lines) == 1, str(unknown)


def test_restricted_text_appears_in_no_format_for_a_reader_outside_the_team(
    cli: Cli, worked: tuple[str, str]
) -> None:
    # The operator the CLI runs as is in no team: every format shows the policy's marker.
    incident_id, canary = worked
    for output in FORMATS:
        for argv in (
            ("timeline", incident_id, "--format", output),
            ("timeline", incident_id, "--format", output, "--person", "aisha.grant"),
            ("review", "activity", incident_id, "--format", output),
            ("review", "activity", incident_id, "--person", "aisha.grant", "--format", output),
        ):
            shown = cli.ok(*argv).stdout
            assert canary not in shown, argv
            assert (MD_HIDDEN if output == "md" else HIDDEN) in shown, (argv, shown)
