"""The timeline as reviewers read it: T+ from the incident, and Markdown and HTML that show what
people wrote as written, never as markup, with nothing loaded from elsewhere."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from schemas.commands import GetTimeline
from schemas.enums import Severity, Tier
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core.review_html import timeline_html
from services.core.timeline_formats import (
    elapsed_seconds,
    t_plus,
    timeline_lines,
    timeline_markdown,
)
from tests.unit.factories import T0

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> **bold** _it_ [link](javascript:x)"
    " | pipe ` tick \x1b]0;owned\x07 \u202eevil\u202c שלום עולם 你好世界 &amp;\n# not a heading"
)


class _Tags(HTMLParser):
    """Every attribute that could load or link to something, and every CSS way to."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") or name.startswith(
                "on"
            ):
                self.found.append(f"{tag} {name}={value}")
            if name == "style" or "//" in (value or ""):
                self.found.append(f"{tag} {name}={value}")

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1] == "style" and re.search(r"url\(|@import|//", data):
            self.found.append("style loads something")


def references(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags, parser.tags
    return parser.found


def incident(title: str = "Shots fired", exercise: bool = False) -> IncidentSummary:
    return IncidentSummary(
        incident_id="INC-AAAAAAAA",
        incident_type="officer-involved-shooting",
        title=title,
        severity=Severity.HIGH,
        logged_at=T0,
        logged_by="renee.alvarez",
        exercise=exercise,
    )


def an_entry(
    after: timedelta, text: str = "kim.liu completed statement", **more: object
) -> TimelineEntry:
    fields: dict[str, object] = {
        "seq": 1,
        "at": T0 + after,
        "type": "task.completed",
        "actor": "kim.liu",
        "text": text,
    }
    fields.update(more)
    return TimelineEntry.model_validate(fields)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "T+00:00"),
        (59.9, "T+00:00"),
        (60, "T+00:01"),
        (3 * 3600 + 25 * 60 + 7, "T+03:25"),
        (86_399, "T+23:59"),
        (86_400, "T+1d 00:00"),
        (86_400 + 2 * 3600 + 15 * 60, "T+1d 02:15"),
        (12 * 86_400 + 60, "T+12d 00:01"),
        (-1, "T-00:00"),
        (-5 * 60, "T-00:05"),
        (-(86_400 + 3600), "T-1d 01:00"),
    ],
)
def test_t_plus_counts_whole_minutes_and_days_either_side(seconds: float, shown: str) -> None:
    assert t_plus(seconds) == shown


def test_elapsed_seconds_are_signed_to_the_millisecond() -> None:
    assert elapsed_seconds(T0 + timedelta(seconds=90, microseconds=123_456), T0) == 90.123
    assert elapsed_seconds(T0 - timedelta(minutes=2), T0) == -120.0
    assert elapsed_seconds(T0, T0) == 0.0


def test_every_text_entry_starts_with_its_t_plus_and_wraps_under_itself() -> None:
    entries = (
        an_entry(timedelta(minutes=-3), "Logged late"),
        an_entry(timedelta(days=1, hours=2, minutes=15), "word " * 30, note="a " * 40),
    )
    lines = timeline_lines(Timeline(incident=incident(), entries=entries), width=80)
    assert all(len(line) <= 80 for line in lines), lines
    assert "T-00:03    07:57:00  Logged late" in lines
    assert any(line.startswith("T+1d 02:15 10:15:00  word word") for line in lines), lines
    assert "2026-11-22 (UTC)" in lines  # a heading when the day changes


def test_the_text_names_the_filters_it_was_narrowed_by() -> None:
    query = GetTimeline(incident_id="INC-AAAAAAAA", roles=("peer_support",), people=("kim.liu",))
    lines = timeline_lines(Timeline(incident=incident(), entries=()), query)
    assert "Only entries with role peer_support; person kim.liu." in lines


def hostile_timeline() -> Timeline:
    entry = an_entry(timedelta(minutes=5), HOSTILE, actor="kim.liu", note=HOSTILE, tier=Tier.PUBLIC)
    return Timeline(incident=incident(HOSTILE, exercise=True), entries=(entry,))


def test_markdown_shows_hostile_text_as_text() -> None:
    shown = timeline_markdown(hostile_timeline())
    assert "<script" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\[link\\]" in shown and "\\_it\\_" in shown
    assert "\\| pipe" in shown and "\\` tick" in shown
    assert "&amp;amp;" in shown  # an entity someone typed stays as typed
    assert "\x1b" not in shown and "\u202e" not in shown and "\\\\x1b" in shown
    assert "שלום עולם 你好世界" in shown
    # Their line break cannot start a heading or a row of its own.
    assert not any(line.startswith("# not") for line in shown.splitlines())
    rows = [line for line in shown.splitlines() if line.startswith("| T+0")]
    assert len(rows) == 1 and re.sub(r"\\.", "", rows[0]).count("|") == 5, rows  # 4 cells
    assert "**EXERCISE: not a real incident.**" in shown


def test_html_escapes_everything_and_loads_nothing() -> None:
    shown = timeline_html(hostile_timeline())
    assert "<script" not in shown and "<img" not in shown and "&lt;script&gt;" in shown
    assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b]0;owned" in shown
    assert "שלום עולם 你好世界" in shown
    assert references(shown) == []
    assert shown.startswith("<!doctype html>") and '<html lang="en">' in shown
    assert "@media print" in shown and "EXERCISE" in shown
    assert "default-src 'none'" in shown  # a browser refuses to load anything from elsewhere


def test_html_of_an_ordinary_timeline_names_no_address_at_all() -> None:
    entries = (an_entry(timedelta(minutes=5), note="Briefed the chief", tier=Tier.COMMAND),)
    shown = timeline_html(Timeline(incident=incident(), entries=entries))
    assert re.search(r"https?:|//", shown) is None and references(shown) == []


def test_html_says_so_when_nothing_is_left_after_filtering() -> None:
    query = GetTimeline(incident_id="INC-AAAAAAAA", types=("task.declined",))
    shown = timeline_html(Timeline(incident=incident(), entries=()), query)
    assert "No entries." in shown and "Only entries with type task.declined." in shown


def test_every_format_names_the_digest_of_the_record_it_was_built_from() -> None:
    digest = "ab" * 32
    entries = (an_entry(timedelta(minutes=5)),)
    timeline = Timeline(incident=incident(), entries=entries, record_digest=digest)
    for shown in (
        "\n".join(timeline_lines(timeline)),
        timeline_markdown(timeline),
        timeline_html(timeline),
    ):
        assert f"{digest} (pathways timeline verify)" in shown
    assert "digest" not in timeline_markdown(Timeline(incident=incident(), entries=entries))
