"""The after-action report of a real exercise run end to end: a decline, escalations, a skipped
task, a follow-up done, and notes of each tier. Its figures equal those worked out here from the
raw events on the stream; no restricted text, and no text of a tier the audience may not read,
appears in any audience or format; the HTML loads nothing from elsewhere."""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest

from schemas import subjects
from services.core.broker import connect
from tests.e2e.harness import Cli, Stack, wait_for
from tests.raw_reads import every_message
from tests.support import example_roster

pytestmark = pytest.mark.e2e

# A day passes in 8.6 s: the first follow-ups (a week on) come due after about a minute, and
# every acknowledge window of minutes or hours is missed before anyone could act.
TIME_SCALE = "0.0001"
AUDIENCES = ("public", "command", "full")
FORMATS = ("html", "md", "json")
COMMANDER = "renee.alvarez"


def marker(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def task_of(cli: Cli, incident_id: str, key: str) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = cli.json("task", "list", "--incident", incident_id)
    return next(t for t in tasks if t["key"] == key)


def act(cli: Cli, incident_id: str, key: str, *verb: str) -> str:
    """`task VERB` on the task as whoever holds it now: escalation hands tasks on quickly at
    this time scale, so a task that moved (or went back to the pool) is given and tried again.
    Returns who did it."""
    for _ in range(20):
        task = task_of(cli, incident_id, key)
        person = task["assignee"] or "kim.liu"
        if task["assignee"] is None or task["status"] == "unassigned":
            given = cli("task", "assign", task["id"], "--to", person, "--as", COMMANDER)
            if given.returncode != 0:
                continue
        done = cli("task", *verb[:1], task["id"], *verb[1:], "--as", person)
        if done.returncode == 0:
            return person
        time.sleep(0.05)
    raise AssertionError(f"could not {verb[0]} {key}: {done}")


def note(cli: Cli, task_id: str, person: str, tier: str, text: str) -> None:
    cli.ok("task", "note", task_id, "--as", person, "--tier", tier, "--text", text)


def run_the_exercise(cli: Cli, marks: dict[str, str]) -> str:
    logged = cli.json(
        "incident", "log", "--type", "officer-involved-shooting",
        "--title", "Riverside tabletop", "--exercise", "--time-scale", TIME_SCALE,
        "--as", COMMANDER,
    )  # fmt: skip
    incident_id: str = logged["incident"]["id"]
    wait_for(lambda: cli.json("task", "list", "--incident", incident_id) or None, 20, "tasks")
    statement = task_of(cli, incident_id, "public-initial-statement")
    briefing = task_of(cli, incident_id, "community-leader-briefing")
    defusing = task_of(cli, incident_id, "peer-support-defusing")
    act(cli, incident_id, "community-leader-briefing", "decline", "--reason", marks["decline"])
    who = act(cli, incident_id, "public-initial-statement", "ack")
    note(cli, statement["id"], COMMANDER, "public", marks["public"])
    note(cli, statement["id"], COMMANDER, "command", marks["command"])
    note(cli, briefing["id"], COMMANDER, "command", marks["command-2"])
    act(cli, incident_id, "public-initial-statement", "complete", "--note", marks["public-done"])
    holder = task_of(cli, incident_id, "peer-support-defusing")["assignee"]
    if holder is None:
        holder = "aisha.grant"
        cli.ok("task", "assign", defusing["id"], "--to", holder, "--as", COMMANDER)
    note(cli, defusing["id"], holder, "restricted", marks["restricted"])
    # A restricted note on a public task: every audience learns it exists, none reads it.
    note(cli, statement["id"], who, "restricted", marks["restricted-2"])
    act(cli, incident_id, "command-activation", "ack")
    act(cli, incident_id, "command-activation", "complete")
    follow_up = wait_for(
        lambda: next(
            (t for t in cli.json("task", "list", "--incident", incident_id) if t["follow_up_of"]),
            None,
        ),
        150,
        "the first follow-up to come due",
        interval=2,
    )
    act(cli, incident_id, follow_up["key"], "ack")
    act(cli, incident_id, follow_up["key"], "complete")
    # The exercise ends: open tasks are cancelled and nothing pending fires any more, so the
    # record the reports are built from holds still.
    cli.ok("incident", "close", incident_id, "--reason", marks["close"], "--as", COMMANDER)
    return incident_id


async def raw_events(url: str, incident_id: str, last: int) -> list[dict[str, Any]]:
    """The incident's events as stored up to sequence `last`, in stream order, read message by
    message."""
    nc = await connect(url, name="e2e-report-read")
    try:
        messages = await every_message(nc.jetstream())
    finally:
        await nc.close()
    prefix = subjects.incident_events(incident_id).rstrip(">")
    ours = [m for m in messages if m.stream == subjects.EVENTS_STREAM]
    ours = [m for m in ours if m.subject.startswith(prefix) and m.seq <= last]
    ours.sort(key=lambda m: m.seq)
    return [json.loads(m.data) for m in ours]


def _at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["at"])


def independent_figures(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per task, from the raw events alone: when it was created, first assigned, first
    acknowledged and completed, and how many escalation steps and declines it saw."""
    tasks: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"assigned": None, "acked": None, "completed": None, "escalations": 0}
    )
    for event in events:
        snapshot = event.get("task")
        if not isinstance(snapshot, dict) or not event["type"].startswith("task."):
            continue
        figures = tasks[snapshot["task_id"]]
        figures.update(tier=snapshot["tier"], status=snapshot["status"], key=snapshot["key"])
        figures.setdefault("created", _at(event))
        figures["declines"] = len(snapshot["declined_by"])
        if figures["assigned"] is None and snapshot.get("assigned_at"):
            figures["assigned"] = datetime.fromisoformat(snapshot["assigned_at"])
        if event["type"] == "task.acknowledged" and figures["acked"] is None:
            figures["acked"] = _at(event)
        if event["type"] == "task.completed":
            figures["completed"] = _at(event)
            # Completing a task that was never acknowledged acknowledges it.
            figures["acked"] = figures["acked"] or _at(event)
        if event["type"] == "task.escalated":
            figures["escalations"] += 1
        if event["type"] == "task.skipped":
            figures["skipped_reason"] = event["reason"]
    return dict(tasks)


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def nearest_rank(values: list[float], share: float) -> float | None:
    """The smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1] if ordered else None


@pytest.fixture(scope="module")
def exercise(cli: Cli, stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    marks = {
        k: marker(k.upper())
        for k in (
            "decline",
            "public",
            "command",
            "command-2",
            "public-done",
            "restricted",
            "close",
        )
    }
    marks["restricted-2"] = marker("RESTRICTED2")
    incident_id = run_the_exercise(cli, marks)
    out = tmp_path_factory.mktemp("reports")
    written: dict[tuple[str, str], str] = {}
    for audience in AUDIENCES:
        for form in FORMATS:
            path = out / f"{audience}.{form}"
            done = cli.ok(
                "review", "report", incident_id, "--audience", audience,
                "--format", form, "--out", str(path),
            )  # fmt: skip
            assert done.stdout == "" and f"Wrote {path}" in done.stderr
            written[(audience, form)] = path.read_text()
            # The digest of the sealed record the report was built from, printed and in it.
            digest = done.stderr.split("Record digest: ", 1)[1].split()[0]
            assert digest in written[(audience, form)], (audience, form)
    return {"id": incident_id, "marks": marks, "reports": written, "dir": out}


async def test_the_reports_figures_equal_those_worked_out_from_the_raw_events(
    stack: Stack, exercise: dict[str, Any]
) -> None:
    full = json.loads(exercise["reports"][("full", "json")])
    # The events the report was built from: up to the last one it shows (a notice may still
    # have come after the incident closed).
    last = max(e["seq"] for e in full["entries"])
    events = await raw_events(stack.nats_url, exercise["id"], last)
    expected = independent_figures(events)
    types = [e["type"] for e in events]
    assert {"task.declined", "task.escalated", "task.skipped"} <= set(types), types
    assert "incident.closed" in types
    assert {t["task_id"] for t in full["tasks"]} == set(expected)
    for task in full["tasks"]:
        mine = expected[task["task_id"]]
        assert task["status"] == mine["status"], task["key"]
        assert task["escalation_steps"] == mine["escalations"], task["key"]
        assert task["declines"] == mine["declines"], task["key"]
        assert task["skipped_reason"] == mine.get("skipped_reason"), task["key"]
        assert task["time_to_acknowledge"] == seconds(mine["assigned"], mine["acked"]), task
        assert task["time_to_complete"] == seconds(mine["created"], mine["completed"]), task
    acks = [s for m in expected.values() if (s := seconds(m["assigned"], m["acked"])) is not None]
    assert full["overall"]["median_acknowledge"] == nearest_rank(acks, 0.5)
    assert full["overall"]["p90_acknowledge"] == nearest_rank(acks, 0.9)
    assert full["overall"]["escalations"] == types.count("task.escalated")
    assert full["overall"]["skipped"] == types.count("task.skipped")
    assert full["follow_ups"]["done"] >= 1
    follow_ups = [t for t in full["tasks"] if t["follow_up_of"]]
    assert follow_ups and follow_ups[0]["status"] == "completed"

    public = json.loads(exercise["reports"][("public", "json")])
    assert {t["tier"] for t in public["tasks"]} == {"public"}
    assert {t["task_id"] for t in public["tasks"]} == {
        k for k, m in expected.items() if m["tier"] == "public"
    }
    assert public["by_role"] == {} and public["by_family"] and public["by_phase"]
    command = json.loads(exercise["reports"][("command", "json")])
    assert {t["tier"] for t in command["tasks"]} == {"public", "command"}


def test_no_audience_reads_what_it_may_not(exercise: dict[str, Any]) -> None:
    marks = exercise["marks"]
    reports = exercise["reports"]
    everywhere = (marks["public"], marks["public-done"])
    # The reason the exercise was closed is for command staff and reviewers (the timeline's rule).
    command_only = (marks["command"], marks["command-2"], marks["decline"], marks["close"])
    nowhere = (marks["restricted"], marks["restricted-2"])
    people = [(m.id, m.name) for m in example_roster().members]
    for (audience, form), text in reports.items():
        # The public report has no timeline (its entries name people), so none of their words.
        named = audience != "public"
        for mark in nowhere:
            assert mark not in text, (audience, form, mark)
        for mark in (*everywhere, *command_only):
            assert (mark in text) == named, (audience, form, mark)
        assert ("restricted: visible to" in text) == named, (audience, form)  # exists, unread
        if not named:
            for person, name in people:
                assert person not in text and name not in text, (audience, form, person)
        if audience != "full":
            # Restricted tasks are not this audience's: not even their names.
            assert "peer-support-defusing" not in text, (audience, form)


def test_the_html_loads_nothing_and_the_exercise_is_marked(exercise: dict[str, Any]) -> None:
    for audience in AUDIENCES:
        html = exercise["reports"][(audience, "html")]
        assert re.search(r"\b(?:src|href|xlink:href|srcset)\s*=|url\(|https?:", html) is None
        assert "EXERCISE: not a real incident" in html and "@top-center" in html
        assert html.count("<svg ") == 2


def test_refusals_are_one_line(cli: Cli, exercise: dict[str, Any]) -> None:
    incident_id = exercise["id"]
    kim = cli("review", "report", incident_id, "--audience", "full", "--as", "kim.liu")
    assert kim.returncode != 0 and len(kim.error_lines) == 1, str(kim)
    assert "reviewers and administrators" in kim.stderr
    command = cli.ok(
        "review", "report", incident_id, "--audience", "command", "--format", "md",
        "--as", COMMANDER,
    )  # fmt: skip
    assert command.stdout.startswith("# After-action report")
    for wrong in (("--audience", "everyone"), ("--format", "text")):
        bad = cli("review", "report", incident_id, *wrong)
        assert bad.returncode == 2 and len(bad.error_lines) == 1, str(bad)
    missing = cli("review", "report", "INC-ZZZZZZZZ", "--format", "json")
    assert missing.returncode != 0 and len(missing.error_lines) == 1, str(missing)
