"""A timeline for reviewers, as text and Markdown: pure functions over what the timeline query
returned to its reader (the console can show the same). Times are UTC; T+ counts from when the
incident was logged, T- before it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import datetime

from schemas.commands import GetTimeline
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core.confidential import sealed_marker
from services.core.printable import visible, visible_lines

TIME = "%H:%M:%S"
DAY = "%Y-%m-%d"
STAMP = "%Y-%m-%d %H:%M:%S"
# T+ and the time of day come before every entry's text; wrapped lines are indented under it.
_T_WIDTH = 11
_INDENT = " " * (_T_WIDTH + 8 + 2)
_SECONDS_PER_DAY = 86_400


def elapsed_seconds(at: datetime, origin: datetime) -> float:
    """Seconds from `origin` to `at` (negative before it), to the millisecond."""
    return round((at - origin).total_seconds(), 3)


# `hh:mm` for each minute of a day, written once: a report shows a T+ for each of thousands of
# entries, and formatting the two numbers took most of each one's time.
_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(_SECONDS_PER_DAY // 60))


def t_plus(seconds: float) -> str:
    """`T+hh:mm`, `T+1d 02:15` past a day, `T-…` before the origin; whole minutes, rounded
    down, so T+00:59 is still within the first hour."""
    sign = "-" if seconds < 0 else "+"
    days, minutes = divmod(int(abs(seconds)) // 60, _SECONDS_PER_DAY // 60)
    clock = _CLOCK[minutes]
    return f"T{sign}{days}d {clock}" if days else f"T{sign}{clock}"


def entry_t_plus(entry: TimelineEntry, incident: IncidentSummary) -> str:
    return t_plus(elapsed_seconds(entry.at, incident.logged_at))


def note_of(entry: TimelineEntry) -> str | None:
    """The entry's note as its reader may see it (a sealed one shown as its marker)."""
    return sealed_marker(entry.note_sealed) if entry.note_sealed is not None else entry.note


def filters_line(query: GetTimeline | None) -> str | None:
    """What the timeline was narrowed to, in words; None when it was not."""
    if query is None:
        return None
    parts = [
        f"{label} {', '.join(values)}"
        for label, values in (
            ("role", query.roles),
            ("phase", query.phases),
            ("person", query.people),
            ("type", query.types),
        )
        if values
    ]
    return f"Only entries with {'; '.join(parts)}" if parts else None


def record_facts(timeline: Timeline) -> list[tuple[str, str]]:
    """The digest of the record the timeline was built from, when the service gave one."""
    if not timeline.record_digest:
        return []
    return [("Record digest", f"{timeline.record_digest} (pathways timeline verify)")]


def incident_facts(incident: IncidentSummary) -> list[tuple[str, str]]:
    """The incident's facts as (label, value) pairs, the values made visible."""
    facts = [
        ("Incident", incident.incident_id),
        ("Title", visible(incident.title)),
        ("Type", incident.incident_type),
        ("Severity", incident.severity.value),
        ("Status", incident.status.value),
        ("Logged", f"{incident.logged_at:{STAMP}} UTC by {incident.logged_by} (T+00:00)"),
    ]
    if incident.exercise:
        facts.insert(0, ("Exercise", f"yes, time scale {incident.time_scale:g}"))
    if incident.playbook_id:
        facts.append(("Playbook", f"{incident.playbook_id} {incident.playbook_version or ''}"))
    if incident.closed_at is not None:
        facts.append(("Closed", f"{incident.closed_at:{STAMP}} UTC by {incident.closed_by}"))
    if incident.involved:
        facts.append(("Involved (never assigned)", ", ".join(incident.involved)))
    return facts


# ------------------------------------------------------------------------------------ text


def _wrapped(text: str, width: int | None, indent: str) -> list[str]:
    """`text` (one visible line) cut to `width` columns, following lines under `indent`."""
    if width is None or width - len(indent) < 20:
        return [text]
    return textwrap.wrap(text, width - len(indent), break_on_hyphens=False) or [""]


def timeline_lines(
    timeline: Timeline, query: GetTimeline | None = None, width: int | None = None
) -> list[str]:
    """The timeline as lines of text; with `width`, long lines wrap under their entry."""
    incident = timeline.incident
    lines = [f"{incident.incident_id}  {visible(incident.title)}"]
    if incident.exercise:
        lines.append(f"EXERCISE (time scale {incident.time_scale:g})")
    lines.append(
        f"{incident.incident_type}, severity {incident.severity.value}, {incident.status.value}"
    )
    if incident.involved:
        lines.append(f"involved (never assigned): {', '.join(incident.involved)}")
    lines.append(f"Logged {incident.logged_at:{STAMP}} UTC by {incident.logged_by}; T+ from then.")
    lines += [f"{label}: {value}" for label, value in record_facts(timeline)]
    narrowed = filters_line(query)
    if narrowed:
        lines.append(f"{narrowed}.")
    return lines + entry_lines(timeline.entries, incident, width)


def entry_lines(
    entries: Iterable[TimelineEntry], incident: IncidentSummary, width: int | None, margin: str = ""
) -> list[str]:
    """Entries under a heading for each day, each as T+, time of day, text and note."""
    lines: list[str] = []
    day = None
    for entry in entries:
        if entry.at.strftime(DAY) != day:
            day = entry.at.strftime(DAY)
            lines += ["", f"{margin}{day} (UTC)"]
        lines += [margin + line for line in _entry_lines(entry, incident, width, len(margin))]
    return lines


def _entry_lines(
    entry: TimelineEntry, incident: IncidentSummary, width: int | None, margin: int
) -> list[str]:
    head = f"{entry_t_plus(entry, incident):<{_T_WIDTH}}{entry.at:{TIME}}  "
    room = None if width is None else width - margin
    text = _wrapped(visible(entry.text), room, _INDENT)
    lines = [head + text[0], *(_INDENT + rest for rest in text[1:])]
    note = note_of(entry)
    if note:
        body = visible_lines(note)
        body[0] = f"note ({entry.tier.value}): {body[0]}"
        lines += [_INDENT + part for line in body for part in _wrapped(line, room, _INDENT)]
    return lines


# -------------------------------------------------------------------------------- Markdown

# Characters Markdown (CommonMark, GitHub tables) reads as syntax anywhere in a line: each is
# backslashed. People's words never start a line here (a break inside them becomes `<br>`), so
# what is syntax only at a line's start (`#`, `-`, `1.`, `>`) cannot take effect.
_MARKDOWN_SYNTAX = frozenset("\\`*_[]|~")
_HTML_SPECIAL = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}


def md(text: str) -> str:
    """People's words as Markdown that shows them as written: one line per table cell (breaks
    become `<br>`), syntax characters backslashed, HTML's special characters as entities."""
    return "<br>".join("".join(_md_char(c) for c in line) for line in visible_lines(text))


def _md_char(char: str) -> str:
    if char in _HTML_SPECIAL:
        return _HTML_SPECIAL[char]
    return f"\\{char}" if char in _MARKDOWN_SYNTAX else char


def md_facts(facts: Iterable[tuple[str, str]]) -> list[str]:
    return [f"- **{md(label)}:** {md(value)}" for label, value in facts]


def timeline_markdown(timeline: Timeline, query: GetTimeline | None = None) -> str:
    incident = timeline.incident
    lines = [f"# Timeline of {incident.incident_id}: {md(incident.title)}", ""]
    if incident.exercise:
        lines += ["**EXERCISE: not a real incident.**", ""]
    lines += md_facts(incident_facts(incident) + record_facts(timeline))
    narrowed = filters_line(query)
    lines += ["", *([f"*{md(narrowed)}.*", ""] if narrowed else [])]
    lines += ["| T+ | Time (UTC) | Who | What |", "|---:|---|---|---|"]
    for entry in timeline.entries:
        what = md(entry.text)
        note = note_of(entry)
        if note:
            what += f"<br>*Note ({entry.tier.value}):* {md(note)}"
        stamp = f"{entry.at:{STAMP}}"
        elapsed = entry_t_plus(entry, incident)
        lines.append(f"| {elapsed} | {stamp} | {md(entry.actor)} | {what} |")
    if not timeline.entries:
        lines.append("| | | | No entries. |")
    return "\n".join(lines) + "\n"
