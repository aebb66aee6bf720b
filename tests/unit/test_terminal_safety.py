"""Nothing people type reaches the terminal raw: no escape sequence, no C1 control, no
bidirectional override, no line that could pose as a timeline entry."""

from __future__ import annotations

import io
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from schemas.enums import Severity, Tier
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.cli.output import json_text, task_table, timeline_text
from services.cli.safe import indented, terminal_safe, unsafe
from tests.unit.factories import T0, a_task

HOSTILE = [
    "\x1b]0;pwned\x07",  # set the window title
    "\x1b[2J",  # clear the screen
    "\x1b]52;c;ZXZpbA==\x07",  # write the clipboard
    "\u202egnp.exe",  # read backwards
    "\x9b31m",  # C1 control sequence introducer
    "ok\n2026-11-21 08:00:00  renee.alvarez closed the incident",  # a forged entry
]
texts = st.text() | st.sampled_from(HOSTILE)


def raw_controls(output: str) -> list[str]:
    return [c for c in output if c != "\n" and unsafe(c)]


@given(texts)
def test_terminal_safe_text_is_one_line_with_nothing_a_terminal_acts_on(text: str) -> None:
    safe = terminal_safe(text)
    assert "\n" not in safe and raw_controls(safe) == []


def test_escapes_are_visible() -> None:
    assert terminal_safe("\x1b[2J") == "\\x1b[2J"
    assert terminal_safe("a\u202eb") == "a\\u202eb"


@given(texts)
def test_indented_text_keeps_every_line_inside_its_entry(text: str) -> None:
    lines = indented(text, "    ").split("\n")
    assert all(line.startswith("    ") for line in lines[1:])
    assert raw_controls("\n".join(lines)) == []


@settings(max_examples=60, deadline=None)
@given(texts, texts)
def test_tables_print_titles_safely(title: str, assignee_note: str) -> None:
    console = Console(file=io.StringIO(), width=80)
    console.print(task_table([a_task(title=title, note=assignee_note)]))
    assert isinstance(console.file, io.StringIO)
    assert raw_controls(console.file.getvalue()) == []


ENTRY_LINE = re.compile(r"^T[+-](\d+d )?\d\d:\d\d +\d\d:\d\d:\d\d  ")


@settings(max_examples=60, deadline=None)
@given(texts, texts)
def test_timeline_notes_cannot_forge_entries(title: str, note: str) -> None:
    incident = IncidentSummary(
        incident_id="INC-AAAAAAAA",
        incident_type="hate-crime",
        title=title,
        severity=Severity.HIGH,
        logged_at=T0,
        logged_by="renee.alvarez",
    )
    entry = TimelineEntry(
        seq=1, at=T0, type="task.completed", actor="a", text="x completed", note=note
    )
    shown = timeline_text(Timeline(incident=incident, entries=(entry,)))
    assert raw_controls(shown) == []
    assert len([line for line in shown.splitlines() if ENTRY_LINE.match(line)]) == 1
    assert tier_line_count(shown) == (1 if note else 0)


def tier_line_count(shown: str) -> int:
    return sum(f"note ({Tier.PUBLIC.value}):" in line for line in shown.splitlines())


@given(st.dictionaries(st.text(), texts, max_size=3))
def test_json_output_is_the_same_data_with_nothing_raw(value: dict[str, str]) -> None:
    text = json_text(value)
    assert json.loads(text) == value
    assert raw_controls(text) == []
