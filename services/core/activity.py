"""An activity log per responder, laid out as FEMA's ICS 214 lays one out (incident, operational
period, name, position, home agency and unit, then date/time and notable activities), built only
from the timeline the reader was given: it shows nothing the timeline query did not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.roster import Member, Roster
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core.printable import visible
from services.core.timeline_formats import STAMP, entry_lines, entry_t_plus, md, note_of


@dataclass(frozen=True)
class Responder:
    person: str
    name: str | None  # None: not on the roster in force
    positions: tuple[str, ...]  # the titles of their roster roles
    agency: str | None
    unit: str | None


@dataclass(frozen=True)
class ResponderLog:
    responder: Responder
    activities: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class ActivityLog:
    incident: IncidentSummary
    logs: tuple[ResponderLog, ...]

    @property
    def period(self) -> tuple[datetime, datetime | None]:
        """From when the incident was logged to when it closed or its response completed
        (None while neither), whoever the log is of."""
        incident = self.incident
        return incident.logged_at, incident.closed_at or incident.response_completed_at


def notable(entry: TimelineEntry, person: str) -> bool:
    """What `person` did: every entry they acted in (acknowledged, started, completed, declined,
    claimed or assigned a task, logged or closed the incident), and every note they wrote."""
    return entry.recognised and person in (entry.actor, entry.note_by)


def responder(roster: Roster, person: str) -> Responder:
    member = next((m for m in roster.members if m.id == person), None)
    if member is None:
        return Responder(person, None, (), None, None)
    return Responder(
        person, member.name, _positions(roster, member), *_agency_and_unit(roster, member)
    )


def _positions(roster: Roster, member: Member) -> tuple[str, ...]:
    titles = {role.id: role.title for role in roster.roles}
    return tuple(titles.get(role, role) for role in member.roles)


def _agency_and_unit(roster: Roster, member: Member) -> tuple[str, str | None]:
    agencies = {o.id: o.name for o in roster.organisations}
    units = {t.id: t.name for t in roster.teams}
    unit = units.get(member.team, member.team) if member.team else None
    return agencies.get(member.organisation, member.organisation), unit


def people_in(timeline: Timeline, roster: Roster) -> list[str]:
    """Roster members who did something in the timeline, in the order they first did."""
    members = {m.id for m in roster.members}
    seen: dict[str, None] = {}
    for entry in timeline.entries:
        for person in (entry.actor, entry.note_by):
            if person in members and notable(entry, person):
                seen.setdefault(person, None)
    return list(seen)


def activity_log(timeline: Timeline, roster: Roster, people: Sequence[str]) -> ActivityLog:
    incident = timeline.incident
    logs = tuple(
        ResponderLog(
            responder(roster, person),
            tuple(e for e in timeline.entries if notable(e, person)),
        )
        for person in people
    )
    return ActivityLog(incident, logs)


def heading(who: Responder) -> str:
    name = visible(who.name) if who.name else "(not on the roster)"
    return f"{name} ({who.person})"


def header_facts(who: Responder) -> list[tuple[str, str]]:
    return [
        ("Position", ", ".join(visible(p) for p in who.positions) or "-"),
        ("Home agency", visible(who.agency) if who.agency else "-"),
        ("Unit", visible(who.unit) if who.unit else "-"),
    ]


def period_text(log: ActivityLog) -> str:
    start, end = log.period
    until = f"{end:{STAMP}} UTC" if end is not None else "(still open)"
    return f"{start:{STAMP}} UTC to {until}"


def activity_lines(log: ActivityLog, width: int | None = None) -> list[str]:
    incident = log.incident
    lines = [f"Activity log (ICS 214): {incident.incident_id}  {visible(incident.title)}"]
    if incident.exercise:
        lines.append(f"EXERCISE (time scale {incident.time_scale:g})")
    lines.append(f"Operational period: {period_text(log)}; T+ from its start.")
    for each in log.logs:
        lines += ["", heading(each.responder)]
        lines += [f"  {label}: {value}" for label, value in header_facts(each.responder)]
        lines += entry_lines(each.activities, incident, width, margin="  ")
        if not each.activities:
            lines.append("  No notable activities.")
    return lines


def activity_markdown(log: ActivityLog) -> str:
    incident = log.incident
    lines = [f"# Activity log (ICS 214): {incident.incident_id}", "", f"**{md(incident.title)}**"]
    if incident.exercise:
        lines += ["", "**EXERCISE: not a real incident.**"]
    lines += ["", f"- **Operational period:** {period_text(log)}"]
    for entry_log in log.logs:
        lines += ["", f"## {md(heading(entry_log.responder))}", ""]
        lines += [
            f"- **{label}:** {md(value)}" for label, value in header_facts(entry_log.responder)
        ]
        lines += ["", "| T+ | Date/time (UTC) | Notable activities |", "|---:|---|---|"]
        for entry in entry_log.activities:
            what = md(entry.text)
            note = note_of(entry)
            if note:
                what += f"<br>*Note ({entry.tier.value}):* {md(note)}"
            lines.append(f"| {entry_t_plus(entry, incident)} | {entry.at:{STAMP}} | {what} |")
        if not entry_log.activities:
            lines.append("| | | No notable activities. |")
    return "\n".join(lines) + "\n"
