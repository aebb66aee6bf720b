"""Roster versions: stored as canonical JSON named by content hash, read back whole; calendars
named by path are read in when a roster file is loaded, and problems keep their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.roster_versions import canonical_json, read_roster, roster_version
from schemas.yaml_source import SourceInvalid
from services.core.library import load_roster
from tests.support import ROOT
from tests.unit.test_oncall import CALENDAR

EXAMPLE = ROOT / "rosters" / "example.yaml"

SMALL = """\
agency: PD
time_zone: America/Chicago
roles:
  - id: victim_advocate
    title: Advocate
    family: victim_advocate
    on_call:
      ical: {ical}
members:
  - id: b
    name: B
    roles: [victim_advocate]
    organisation: pd
"""


def test_a_stored_version_reads_back_as_the_same_roster_with_the_same_version() -> None:
    roster = load_roster(EXAMPLE)
    stored = canonical_json(roster)
    again = read_roster(stored)
    assert again == roster and roster_version(again) == roster_version(roster)
    assert again.role("victim_advocate").on_call is not None  # type: ignore[union-attr]


def test_a_roster_without_roles_keeps_the_classic_five_once_stored(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(
        "agency: Old PD\nmembers:\n  - {id: d, name: D, roles: [command_staff], organisation: x}\n"
    )
    again = read_roster(canonical_json(load_roster(old)))
    assert again.classic_roles and len(again.roles) == 5


def test_the_version_is_the_content_not_the_formatting(tmp_path: Path) -> None:
    reformatted = tmp_path / "example.yaml"
    reformatted.write_text("# a comment\n" + EXAMPLE.read_text())
    assert roster_version(load_roster(reformatted)) == roster_version(load_roster(EXAMPLE))
    changed = tmp_path / "changed.yaml"
    changed.write_text(EXAMPLE.read_text().replace("name: Dana Reyes", "name: Dana R. Reyes"))
    assert roster_version(load_roster(changed)) != roster_version(load_roster(EXAMPLE))


def test_a_calendar_named_by_path_is_read_in_relative_to_the_roster(tmp_path: Path) -> None:
    (tmp_path / "calendars").mkdir()
    (tmp_path / "calendars" / "advocates.ics").write_text(CALENDAR)
    file = tmp_path / "roster.yaml"
    file.write_text(SMALL.format(ical="calendars/advocates.ics"))
    roster = load_roster(file)
    on_call = roster.role("victim_advocate").on_call  # type: ignore[union-attr]
    assert on_call is not None and on_call.ical == CALENDAR
    assert read_roster(canonical_json(roster)) == roster  # stored with the calendar inline


def test_a_calendar_that_cannot_be_read_is_one_line_where_it_is_named(tmp_path: Path) -> None:
    file = tmp_path / "roster.yaml"
    file.write_text(SMALL.format(ical="calendars/missing.ics"))
    with pytest.raises(SourceInvalid) as raised:
        load_roster(file)
    [problem] = raised.value.errors
    assert (problem.line, problem.field) == (8, "roles[0].on_call.ical")
    assert "cannot read the calendar calendars/missing.ics" in problem.message


def test_a_broken_calendar_file_is_one_line_where_it_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    file = tmp_path / "roster.yaml"
    file.write_text(SMALL.format(ical="broken.ics"))
    with pytest.raises(SourceInvalid) as raised:
        load_roster(file)
    [problem] = raised.value.errors
    assert problem.line == 8 and "no events" in problem.message


def test_a_rotation_naming_someone_outside_the_role_is_reported_on_its_line(
    tmp_path: Path,
) -> None:
    file = tmp_path / "roster.yaml"
    text = EXAMPLE.read_text().replace(
        "members: [priya.nair, sam.whitfield, lena.morales]",
        "members: [priya.nair, dana.reyes, lena.morales]",
    )
    file.write_text(text)
    with pytest.raises(SourceInvalid) as raised:
        load_roster(file)
    [problem] = raised.value.errors
    line = text.splitlines().index("        members: [priya.nair, dana.reyes, lena.morales]") + 1
    assert (problem.line, problem.field) == (line, "roles[1].on_call.rotation.members[1]")
    assert problem.message == (
        "role victim_advocate: dana.reyes does not hold the role victim_advocate"
    )
