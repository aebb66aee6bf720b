"""An incident's timeline (`/incidents/{id}/timeline`): its events in order, each with its time
in UTC and from the incident (T+hh:mm), who and what. Restricted notes show what the reply
holds: text for their team, a marker for anyone else. Who may read it, the services decide."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from schemas import subjects
from schemas.principals import Principal
from schemas.roster import Roster
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
    text: str  # what happened, people named by their names


def by_name(roster: Roster) -> re.Pattern[str] | None:
    """A pattern matching every roster member's id as a word of its own (ids hold dots and
    hyphens, so neither may touch it; a full stop after it ends a sentence)."""
    ids = sorted((m.id for m in roster.members), key=len, reverse=True)
    if not ids:
        return None
    return re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-]|\.\w)")


def named(text: str, roster: Roster, people: re.Pattern[str] | None) -> str:
    """The entry's words with each person's id replaced by their name: the services write ids,
    which people do not read as names."""
    if people is None:
        return text

    def name(found: re.Match[str]) -> str:
        member = roster.member(found.group(1))
        return member.name if member is not None else found.group(1)

    return people.sub(name, text)


@router.get("/incidents/{incident_id}/timeline")
async def timeline(
    request: Request, incident_id: str, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    fields = {"incident_id": checked_incident_id(incident_id)}
    found: Timeline = await read(request, principal, subjects.QRY_TIMELINE, fields)
    roster = console_of(request).rt.roster
    reader = page_reader(principal, roster)
    start = found.incident.logged_at
    people = by_name(roster)
    lines = [
        Line(
            entry,
            utc(entry.at),
            since(entry.at, start),
            reader.name(entry.actor),
            named(entry.text, roster, people),
        )  # fmt: skip
        for entry in sorted(found.entries, key=lambda e: e.seq)
    ]
    context = {
        "incident": found.incident,
        "lines": lines,
        "logged_at": utc(start),
        "reader": reader,
    }
    return page(request, "timeline.html", context)
