"""The timeline and the activity log as one self-contained HTML file each: inline CSS only, no
external resource (a Content-Security-Policy forbids loading any), everything people wrote
escaped by Jinja2's autoescape after its control characters were made visible."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from schemas.commands import GetTimeline
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core.activity import ActivityLog, header_facts, heading, period_text
from services.core.printable import visible, visible_lines
from services.core.timeline_formats import (
    STAMP,
    entry_t_plus,
    filters_line,
    incident_facts,
    note_of,
    record_facts,
)


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("services.core", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def row(entry: TimelineEntry, incident: IncidentSummary) -> dict[str, Any]:
    note = note_of(entry)
    return {
        "t_plus": entry_t_plus(entry, incident),
        "at": f"{entry.at:{STAMP}}",
        "actor": visible(entry.actor),
        "text": visible(entry.text),
        "note": visible_lines(note) if note else None,
        "tier": entry.tier.value,
        "redacted": entry.redacted,
    }


def page(incident: IncidentSummary, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "exercise": incident.exercise,
        "incident_id": incident.incident_id,
        "incident_title": visible(incident.title),
    }


def timeline_html(timeline: Timeline, query: GetTimeline | None = None) -> str:
    incident = timeline.incident
    return (
        environment()
        .get_template("timeline.html.j2")
        .render(
            **page(incident, f"Timeline of {incident.incident_id}"),
            facts=incident_facts(incident) + record_facts(timeline),
            narrowed=filters_line(query),
            rows=[row(e, incident) for e in timeline.entries],
        )
    )


def activity_html(log: ActivityLog) -> str:
    incident = log.incident
    responders = [
        {
            "heading": heading(each.responder),
            "facts": header_facts(each.responder),
            "rows": [row(e, incident) for e in each.activities],
        }
        for each in log.logs
    ]
    return (
        environment()
        .get_template("activity.html.j2")
        .render(
            **page(incident, f"Activity log (ICS 214) of {incident.incident_id}"),
            period=period_text(log),
            responders=responders,
        )
    )
