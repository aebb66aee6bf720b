"""Answers timeline queries by replaying an incident's events from the stream."""

from __future__ import annotations

from functools import partial

from faststream.nats import NatsRouter

from schemas import subjects
from schemas.commands import ErrorCode, GetTimeline, Reply
from schemas.events import AnyEvent, IncidentLogged
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core.errors import Refused
from services.core.eventstore import Stored, Unrecognised
from services.core.rpc import ok, serve
from services.core.runtime import Runtime
from services.timeline.render import entry, unrecognised_entry

QUEUE = "timeline"


async def get_timeline(rt: Runtime, query: GetTimeline) -> Reply:
    stored = await rt.store.history(subjects.incident_events(query.incident_id))
    readable = [s for s in stored if isinstance(s, Stored)]
    logged = next((s.event for s in readable if isinstance(s.event, IncidentLogged)), None)
    if logged is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {query.incident_id}")
    summary = IncidentSummary.from_logged(logged)
    for s in readable:
        summary = summary.after(s.event)
    return ok(Timeline(incident=summary, entries=_entries(stored)), changed=False)


def _entries(stored: list[Stored[AnyEvent] | Unrecognised]) -> tuple[TimelineEntry, ...]:
    return tuple(
        entry(s.event, s.seq)
        if isinstance(s, Stored)
        else unrecognised_entry(s.event_type, s.at, s.seq)
        for s in stored
    )


def build(rt: Runtime) -> NatsRouter:
    router = NatsRouter()
    serve(router, subjects.QRY_TIMELINE, GetTimeline, partial(get_timeline, rt), queue=QUEUE)
    return router
