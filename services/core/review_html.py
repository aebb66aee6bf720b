"""The timeline and the activity log as one self-contained HTML file each: inline CSS only, no
external resource (a Content-Security-Policy forbids loading any), everything people wrote
escaped by Jinja2's autoescape (the entries' rows by services.core.entry_rows, with the same
function) after its control characters were made visible."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from schemas.commands import GetTimeline
from schemas.views import IncidentSummary, Timeline
from services.core.activity import ActivityLog, header_facts, heading, period_text
from services.core.entry_rows import entry_rows
from services.core.printable import visible
from services.core.timeline_formats import filters_line, incident_facts, record_facts


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
            rows=entry_rows(timeline.entries, incident, with_who=True),
        )
    )


def activity_html(log: ActivityLog) -> str:
    incident = log.incident
    responders = [
        {
            "heading": heading(each.responder),
            "facts": header_facts(each.responder),
            "rows": entry_rows(each.activities, incident, with_who=False),
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
