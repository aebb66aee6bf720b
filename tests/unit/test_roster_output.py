"""What `pathways roster show` prints: readable at 80 columns, terminal-safe, stable JSON."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from schemas.roster import Roster
from services.cli.roster_output import roster_json, roster_text, short_delay
from services.core.library import load_roster
from tests.support import ROOT

EXAMPLE = ROOT / "rosters" / "example.yaml"


def rendered(roster: Roster, width: int) -> list[str]:
    console = Console(width=width, record=True, highlight=False, emoji=False, file=io.StringIO())
    for block in roster_text(roster, Path("roster.yaml")):
        console.print(block)
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 60, 200])
def test_every_line_fits_the_terminal(width: int) -> None:
    lines = rendered(load_roster(EXAMPLE), width)
    assert all(len(line.rstrip()) <= width for line in lines), lines
    text = "\n".join(lines)
    for heading in ("Roles", "Organisations", "Teams", "Members"):
        assert heading in lines
    assert "partner_clinician" in text and "helen.park" in text


def test_roles_show_their_family_and_holders_at_80_columns() -> None:
    lines = rendered(load_roster(EXAMPLE), 80)
    row = next(line for line in lines if line.startswith("command_staff "))
    assert "command" in row.split() and "renee.alvarez," in row


def test_peoples_words_are_escaped() -> None:
    roster = Roster.model_validate(
        {
            "agency": "PD\x1b]0;owned\x07",
            "members": [
                {"id": "a", "name": "A\u202eB", "roles": ["peer_support"], "organisation": "PD"}
            ],
        }
    )
    text = "\n".join(rendered(roster, 80))
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b" in text and "\\u202e" in text


def test_the_json_names_every_part_by_id() -> None:
    shown = roster_json(load_roster(EXAMPLE), EXAMPLE)
    json.dumps(shown)  # serialisable as it is
    assert shown["classic_roles"] is False
    roles = {r["id"]: r for r in shown["roles"]}
    assert roles["interpreter"]["families"] == ["victim_advocate", "community_liaison"]
    assert roles["partner_clinician"]["holders"] == ["helen.park", "miguel.santos"]
    assert {o["id"] for o in shown["organisations"] if o["partner"]} >= {"harbor-survivors"}
    lena = next(m for m in shown["members"] if m["id"] == "lena.morales")
    assert lena["partner"] is True and lena["preferred_language"] == "es"
    assert lena["channels"][1] == {
        "kind": "webhook",
        "address": "https://harbor-survivors.example.org/pathways/tasks",
        "after": None,
        "secret_env": "HARBOR_WEBHOOK_SECRET",
    }
    assert lena["channels"][2]["after"] == "PT15M"


@pytest.mark.parametrize(
    ("delay", "shown"),
    [
        (timedelta(minutes=10), "10m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=2), "2d"),
        (timedelta(seconds=30), "30s"),
    ],
)
def test_delays_read_as_people_write_them(delay: timedelta, shown: str) -> None:
    assert short_delay(delay) == shown
