"""The activity log per responder (ICS 214): who they are, from the roster, then what they did in
time order, as the timeline showed it to the reader."""

from __future__ import annotations

import re
from datetime import timedelta

from schemas.enums import Severity, Tier
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core.activity import activity_lines, activity_log, activity_markdown, people_in
from services.core.library import load_roster
from services.core.review_html import activity_html
from tests.support import ROOT
from tests.unit.factories import T0

EXAMPLE = load_roster(ROOT / "rosters" / "example.yaml")
MARKER = "[restricted: visible to Peer Support Team only]"


def line(minutes: int, type_: str, actor: str, text: str, **more: object) -> TimelineEntry:
    fields: dict[str, object] = {
        "seq": minutes,
        "at": T0 + timedelta(minutes=minutes),
        "type": type_,
        "actor": actor,
        "text": text,
    }
    fields.update(more)
    return TimelineEntry.model_validate(fields)


TIMELINE = Timeline(
    incident=IncidentSummary(
        incident_id="INC-AAAAAAAA",
        incident_type="officer-involved-shooting",
        title="Shots fired <b>",
        severity=Severity.HIGH,
        logged_at=T0,
        logged_by="renee.alvarez",
        closed_at=T0 + timedelta(days=2),
    ),
    entries=(
        line(0, "incident.logged", "renee.alvarez", "Incident logged"),
        line(
            1,
            "task.created",
            "engine",
            "Task defusing created for aisha.grant",
            assignee="aisha.grant",
        ),
        line(4, "task.acknowledged", "aisha.grant", "aisha.grant acknowledged defusing"),
        line(
            9,
            "task.noted",
            "tom.kowalski",
            "tom.kowalski added a note to defusing",
            tier=Tier.RESTRICTED,
            note=MARKER,
            note_by="tom.kowalski",
            redacted=True,
        ),
        line(
            65,
            "task.completed",
            "aisha.grant",
            "aisha.grant completed defusing",
            note="Spoke <i>with</i> both officers",
            note_by="aisha.grant",
        ),
        line(70, "task.declined", "kim.liu", "kim.liu declined statement"),
    ),
)


def test_everyone_on_the_roster_who_did_something_in_the_order_they_first_did() -> None:
    assert people_in(TIMELINE, EXAMPLE) == [
        "renee.alvarez",
        "aisha.grant",
        "tom.kowalski",
        "kim.liu",
    ]


def test_a_persons_log_holds_exactly_what_they_did_and_wrote() -> None:
    log = activity_log(TIMELINE, EXAMPLE, ["aisha.grant"])
    (only,) = log.logs
    assert [e.type for e in only.activities] == ["task.acknowledged", "task.completed"]
    assert only.responder.name == "Aisha Grant"
    assert only.responder.positions == ("Peer support",)
    assert only.responder.agency == "Example City Police Department"
    assert only.responder.unit == "Peer Support Team"
    tom = activity_log(TIMELINE, EXAMPLE, ["tom.kowalski"]).logs[0]
    assert [e.type for e in tom.activities] == ["task.noted"]


def test_the_text_log_gives_t_plus_time_and_what_was_done() -> None:
    lines = activity_lines(activity_log(TIMELINE, EXAMPLE, ["aisha.grant", "tom.kowalski"]))
    assert "Aisha Grant (aisha.grant)" in lines
    assert "  Unit: Peer Support Team" in lines
    assert "  T+01:05    09:05:00  aisha.grant completed defusing" in lines
    assert any(MARKER in line for line in lines)  # the marker the reader was given, as given
    assert (
        "Operational period: 2026-11-21 08:00:00 UTC to 2026-11-23 08:00:00 UTC; T+ from its start."
        in lines
    )


def test_someone_not_on_the_roster_is_said_to_be_so() -> None:
    log = activity_log(TIMELINE, EXAMPLE, ["former.member"])
    assert "(not on the roster) (former.member)" in activity_lines(log)
    assert "  No notable activities." in activity_lines(log)


def test_markdown_and_html_escape_the_notes() -> None:
    log = activity_log(TIMELINE, EXAMPLE, ["aisha.grant"])
    md = activity_markdown(log)
    assert "<i>" not in md and "&lt;i&gt;with&lt;/i&gt;" in md
    assert "| T+01:05 | 2026-11-21 09:05:00 | aisha.grant completed defusing" in md
    html = activity_html(log)
    assert "<i>" not in html and "<b>" not in html and "&lt;i&gt;with&lt;/i&gt;" in html
    assert re.search(r"https?:|//|\bsrc=|\bhref=|url\(", html) is None  # none in what they wrote
    assert "<h2" in html and "Aisha Grant (aisha.grant)" in html
