"""What `pathways roster show` prints. The JSON shape is documented in docs/cli.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from rich.console import RenderableType
from rich.text import Text

from schemas.availability import AwayPeriod, duty, policy_of
from schemas.base import utc_now
from schemas.channels import Channel
from schemas.roster import Member, Roster
from schemas.roster_versions import roster_version
from services.cli.listing import Column, Listing
from services.cli.roster_source import ShownRoster
from services.cli.safe import terminal_safe

_DURATION = TypeAdapter(timedelta)


def roster_json(
    roster: Roster, file: Path | str, shown: ShownRoster | None = None, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utc_now()
    away = shown.away if shown else ()
    return {
        "file": str(file),
        "version": shown.version if shown else roster_version(roster),
        "live": shown.live if shown else False,
        "loaded_by": shown.loaded.loaded_by if shown and shown.loaded else None,
        "loaded_at": shown.loaded.loaded_at.isoformat() if shown and shown.loaded else None,
        "agency": roster.agency,
        "example": roster.example,
        "time_zone": roster.time_zone,
        "classic_roles": roster.classic_roles,
        "capacity": roster.capacity,
        "roles": [
            {
                "id": role.id,
                "title": role.title,
                "description": role.description,
                "families": [f.value for f in role.families],
                "holders": list(roster.holders(role.id)),
                "policy": policy_of(role).value,
                "capacity": role.capacity,
                "on_call": [e.person for e in duty(roster, role.id, now, away).on_call],
            }
            for role in roster.roles
        ],
        "organisations": [
            {
                "id": organisation.id,
                "name": organisation.name,
                "partner": organisation.partner,
                "description": organisation.description,
                "members": [m.id for m in roster.members if m.organisation == organisation.id],
            }
            for organisation in roster.organisations
        ],
        "teams": [
            {
                "id": team.id,
                "name": team.name,
                "organisation": team.organisation,
                "description": team.description,
                "members": [m.id for m in roster.members if m.team == team.id],
            }
            for team in roster.teams
        ],
        "members": [_member_json(roster, member) for member in roster.members],
        "away": [
            {
                "id": p.person,
                "from": p.starts.isoformat(),
                "until": p.until.isoformat(),
                "recorded_by": p.recorded_by,
            }
            for p in away
        ],
    }


def _member_json(roster: Roster, member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "name": member.name,
        "active": member.active,
        "roles": list(member.roles),
        "organisation": member.organisation,
        "team": member.team,
        "partner": roster.is_partner(member),
        "languages": list(member.languages),
        "preferred_language": member.preferred_language,
        "time_zone": roster.time_zone_of(member),
        "channels": [_channel_json(channel) for channel in member.channels],
    }


def _channel_json(channel: Channel) -> dict[str, Any]:
    return {
        "kind": channel.kind.value,
        "address": channel.address,
        "after": _DURATION.dump_python(channel.after, mode="json") if channel.after else None,
        "secret_env": channel.secret_env,
    }


def short_delay(delay: timedelta) -> str:
    """`15m`, `1h30m`, `2d`: a delay as people write it."""
    minutes = int(delay.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) or f"{int(delay.total_seconds())}s"


def _channels_cell(member: Member) -> str:
    return ", ".join(
        f"{c.kind.value} after {short_delay(c.after)}" if c.after else c.kind.value
        for c in member.channels
    )


def _languages_cell(member: Member) -> str:
    spoken = ", ".join(member.languages) or "-"
    if member.preferred_language in member.languages and member.preferred_language != "en":
        return f"{spoken} (prefers {member.preferred_language})"
    return spoken


def _origin(shown: ShownRoster | None, roster: Roster) -> str:
    if shown is None or not shown.live:
        return f"version {shown.version if shown else roster_version(roster)} (a file)"
    if shown.loaded is None:
        return f"version {shown.version}, in force (read by the services from their file)"
    when = shown.loaded.loaded_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"version {shown.version}, in force since {when}, loaded by {shown.loaded.loaded_by}"


def roster_text(
    roster: Roster, file: Path | str, shown: ShownRoster | None = None, now: datetime | None = None
) -> list[RenderableType]:
    """Headings and tables; each table turns into cards when the terminal is too narrow."""
    now = now or utc_now()
    away = shown.away if shown else ()
    example = " — EXAMPLE roster (fictional people)" if roster.example else ""
    blocks: list[RenderableType] = [
        Text(terminal_safe(roster.agency) + example, style="bold"),
        Text(terminal_safe(f"{file} · time zone {roster.time_zone}")),
        Text(terminal_safe(_origin(shown, roster))),
    ]
    classic = (
        " (the classic five: the roster has no roles: section)" if roster.classic_roles else ""
    )
    roles_heading = "Roles" + classic
    blocks += [Text(""), Text(roles_heading, style="bold"), _roles(roster)]
    on_call = _on_call(roster, now, away)
    if on_call is not None:
        blocks += [Text(""), Text("On call now", style="bold"), on_call]
    if roster.organisations:
        blocks += [Text(""), Text("Organisations", style="bold"), _organisations(roster)]
    if roster.teams:
        blocks += [Text(""), Text("Teams", style="bold"), _teams(roster)]
    blocks += [Text(""), Text("Members", style="bold"), _members(roster)]
    if away:
        blocks += [Text(""), Text("Away", style="bold"), _away(away)]
    return blocks


def _roles(roster: Roster) -> Listing:
    rows = [
        [
            role.id,
            ", ".join(f.value for f in role.families),
            ", ".join(roster.holders(role.id)) or "nobody",
        ]
        for role in roster.roles
    ]
    return Listing([Column("ROLE"), Column("FAMILY", "family "), Column("HOLDERS")], rows)


def _on_call(roster: Roster, now: datetime, away: tuple[AwayPeriod, ...]) -> Listing | None:
    """Who is on call now for each role with a schedule (someone away is not)."""
    rows = []
    for role in roster.roles:
        if role.on_call is None or not role.on_call.scheduled:
            continue
        found = duty(roster, role.id, now, away)
        on = ", ".join(e.person for e in found.on_call) or "nobody"
        rows.append([role.id, found.policy.value, on])
    if not rows:
        return None
    return Listing([Column("ROLE"), Column("POLICY", "policy "), Column("ON CALL NOW")], rows)


def _away(periods: tuple[AwayPeriod, ...]) -> Listing:
    rows = [
        [
            p.person,
            p.starts.strftime("%Y-%m-%d %H:%M UTC"),
            p.until.strftime("%Y-%m-%d %H:%M UTC"),
            f"recorded by {p.recorded_by}",
        ]
        for p in periods
    ]
    columns = [Column("PERSON"), Column("FROM", "from "), Column("UNTIL", "until "), Column("")]
    return Listing(columns, rows)


def _organisations(roster: Roster) -> Listing:
    rows = [
        [
            o.id,
            "partner" if o.partner else "agency",
            str(sum(1 for m in roster.members if m.organisation == o.id)),
            o.name,
        ]
        for o in roster.organisations
    ]
    columns = [
        Column("ORGANISATION"),
        Column("KIND"),
        Column("MEMBERS", "members "),
        Column("NAME"),
    ]
    return Listing(columns, rows)


def _teams(roster: Roster) -> Listing:
    rows = [
        [t.id, t.organisation, str(sum(1 for m in roster.members if m.team == t.id)), t.name]
        for t in roster.teams
    ]
    columns = [
        Column("TEAM"),
        Column("ORGANISATION"),
        Column("MEMBERS", "members "),
        Column("NAME"),
    ]
    return Listing(columns, rows)


def _members(roster: Roster) -> Listing:
    rows = []
    for m in roster.members:
        where = m.organisation + (f"/{m.team}" if m.team else "")
        where += " (partner)" if roster.is_partner(m) and not roster.organisations else ""
        name = m.name if m.active else f"{m.name} (inactive)"
        rows.append(
            [
                m.id,
                ", ".join(m.roles),
                where,
                _languages_cell(m),
                roster.time_zone_of(m),
                _channels_cell(m),
                name,
            ]
        )
    columns = [
        Column("PERSON"),
        Column("ROLES"),
        Column("ORGANISATION/TEAM"),
        Column("LANGUAGES"),
        Column("TIME ZONE"),
        Column("CHANNELS"),
        Column("NAME"),
    ]
    return Listing(columns, rows)
