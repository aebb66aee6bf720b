"""What `pathways roster who ROLE` prints. The JSON shape is documented in docs/cli.md."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from schemas.availability import Duty
from schemas.oncall import AssignmentPolicy
from schemas.roster import Roster
from services.cli.listing import Column, Listing
from services.cli.roster_source import ShownRoster
from services.cli.safe import terminal_safe

_ORDER = {
    AssignmentPolicy.ON_CALL_FIRST: "on call first, then in turn",
    AssignmentPolicy.ROTATION: "in turn; each incident starts with someone else",
    AssignmentPolicy.LEAST_LOADED: "the one with the fewest open tasks first",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def duty_json(shown: ShownRoster, duty: Duty) -> dict[str, Any]:
    role = shown.roster.role(duty.role)
    return {
        "role": duty.role,
        "title": role.title if role else duty.role,
        "at": duty.at.isoformat(),
        "policy": duty.policy.value,
        "version": shown.version,
        "live": shown.live,
        "on_call": [
            {"id": e.person, "source": e.source.value, "until": _iso(e.until)} for e in duty.on_call
        ],
        "available": list(duty.available),
        "away": [
            {"id": p.person, "from": _iso(p.starts), "until": _iso(p.until)} for p in duty.away
        ],
        "inactive": list(duty.inactive),
    }


def local(moment: datetime | None, where: tzinfo) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(where).strftime("%a %b %d %Y %H:%M %Z")


def duty_text(shown: ShownRoster, duty: Duty, where: tzinfo) -> list[RenderableType]:
    roster: Roster = shown.roster
    role = roster.role(duty.role)
    origin = "in force" if shown.live else f"file {shown.file}"
    blocks: list[RenderableType] = [
        Text(terminal_safe(f"{duty.role} — {role.title if role else duty.role}"), style="bold"),
        Text(terminal_safe(f"at {local(duty.at, where)} · policy {duty.policy.value}")),
        Text(terminal_safe(f"roster {shown.version} ({origin})")),
        Text(""),
    ]
    if duty.on_call:
        rows = [[e.person, e.source.value, local(e.until, where)] for e in duty.on_call]
        columns = [Column("ON CALL"), Column("BY", "by "), Column("UNTIL")]
        blocks += [Listing(columns, rows)]
    else:
        blocks += [Text("Nobody on call (no schedule, or everyone on it is away).")]
    offered = ", ".join(duty.available) or "nobody"
    blocks += [Text(""), Text(f"Available ({_ORDER[duty.policy]}):", style="bold")]
    blocks += [Text(terminal_safe(offered))]
    if duty.away:
        rows = [[p.person, local(p.starts, where), local(p.until, where)] for p in duty.away]
        blocks += [Text(""), Listing([Column("AWAY"), Column("FROM", "from "), Column("UNTIL")],
                                     rows)]  # fmt: skip
    if duty.inactive:
        blocks += [Text(""), Text(terminal_safe(f"Inactive: {', '.join(duty.inactive)}"))]
    return blocks
