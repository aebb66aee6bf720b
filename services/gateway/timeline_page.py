"""An incident's timeline (`/incidents/{id}/timeline`): its events in order, each with its time
in UTC and from the incident (T+hh:mm), who and what. Restricted notes show what the reply
holds: text for their team, a marker for anyone else. Who may read it, the services decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from schemas import subjects
from schemas.principals import Principal
from schemas.views import Timeline, TimelineEntry
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import read
from services.gateway.pages import page
from services.gateway.reader import page_reader
from services.gateway.signed_in import signed_in
from services.gateway.task_page import checked_incident_id
from services.gateway.when import since, utc

router = console_router()


@dataclass(frozen=True)
class Line:
    entry: TimelineEntry
    at_utc: str
    offset: str  # T+hh:mm from the incident
    who: str


@router.get("/incidents/{incident_id}/timeline")
async def timeline(
    request: Request, incident_id: str, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    fields = {"incident_id": checked_incident_id(incident_id)}
    found: Timeline = await read(request, principal, subjects.QRY_TIMELINE, fields)
    reader = page_reader(principal, console_of(request).rt.roster)
    start = found.incident.logged_at
    lines = [
        Line(entry, utc(entry.at), since(entry.at, start), reader.name(entry.actor))
        for entry in sorted(found.entries, key=lambda e: e.seq)
    ]
    context = {
        "incident": found.incident,
        "lines": lines,
        "logged_at": utc(start),
        "reader": reader,
    }
    return page(request, "timeline.html", context)
