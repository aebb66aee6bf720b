"""What `pathways roster who` prints: readable at 80 columns and narrower, terminal-safe."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from schemas.availability import duty
from schemas.oncall import zone
from services.cli.duty_output import duty_json, duty_text
from services.cli.roster_source import ShownRoster
from services.core.library import load_roster
from tests.support import ROOT

EXAMPLE = load_roster(ROOT / "rosters" / "example.yaml")
CHRISTMAS = datetime(2026, 12, 25, 18, tzinfo=UTC)


def rendered(role: str, width: int) -> list[str]:
    shown = ShownRoster(EXAMPLE, "rosters/example.yaml", "4c8c3cf78d71", live=True)
    console = Console(width=width, record=True, highlight=False, emoji=False, file=io.StringIO())
    for block in duty_text(shown, duty(EXAMPLE, role, CHRISTMAS, ()), zone("America/Chicago")):
        console.print(block)
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 40])
def test_every_line_fits_the_terminal(width: int) -> None:
    lines = rendered("victim_advocate", width)
    assert all(len(line.rstrip()) <= width for line in lines), lines
    assert lines[0] == "victim_advocate — Victim advocate"
    assert any("sam.whitfield" in line and "override" in line for line in lines) or width < 80


def test_at_80_columns_the_on_call_person_is_a_table_row_with_when_it_ends() -> None:
    lines = rendered("victim_advocate", 80)
    row = next(line for line in lines if line.startswith("sam.whitfield "))
    assert row.split()[:2] == ["sam.whitfield", "override"]
    assert "Mon Dec 28 2026 08:00 CST" in row


def test_a_role_without_a_schedule_says_nobody_is_on_call() -> None:
    lines = rendered("community_liaison", 80)
    assert any(line.startswith("Nobody on call") for line in lines)
    shown = ShownRoster(EXAMPLE, "f", "v", live=False)
    found = duty_json(shown, duty(EXAMPLE, "community_liaison", CHRISTMAS, ()))
    assert found["on_call"] == [] and found["policy"] == "rotation"
    assert found["available"] == ["dana.reyes", "marcus.bell", "grace.okafor"]
