"""Answers timeline queries by replaying an incident's events from the stream."""

from __future__ import annotations

from functools import partial

from faststream.nats import NatsRouter

from schemas import subjects
from schemas.commands import ErrorCode, GetTimeline, Reply
from schemas.events import IncidentLogged
from schemas.views import IncidentSummary, Timeline
from services.core.errors import Refused
from services.core.rpc import ok, serve
from services.core.runtime import Runtime
from services.timeline.render import entries

QUEUE = "timeline"


async def get_timeline(rt: Runtime, query: GetTimeline) -> Reply:
    stored = await rt.store.read(subjects.incident_events(query.incident_id))
    logged = next((s.event for s in stored if isinstance(s.event, IncidentLogged)), None)
    if logged is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {query.incident_id}")
    summary = IncidentSummary.from_logged(logged)
    for s in stored:
        summary = summary.after(s.event)
    timeline = Timeline(incident=summary, entries=entries([(s.event, s.seq) for s in stored]))
    return ok(timeline, changed=False)


def build(rt: Runtime) -> NatsRouter:
    router = NatsRouter()
    serve(router, subjects.QRY_TIMELINE, GetTimeline, partial(get_timeline, rt), queue=QUEUE)
    return router
