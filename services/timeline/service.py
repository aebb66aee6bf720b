"""Answers timeline queries by replaying an incident's events from the stream, and response-metrics
queries from the metrics projection."""

from __future__ import annotations

from functools import partial

from faststream.nats import NatsRouter

from schemas import subjects
from schemas.commands import ErrorCode, GetTimeline, Reply
from schemas.events import AnyEvent, IncidentLogged, RecordSealed
from schemas.improvement import GetCorrectiveActions, GetFindings
from schemas.metrics import GetMetrics
from schemas.principals import Principal
from schemas.report import GetReviewReport
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core import access
from services.core.access import Action, Target
from services.core.collector import collector_paused
from services.core.errors import Refused
from services.core.eventstore import Stored, Unrecognised
from services.core.rpc import ok, serve
from services.core.runtime import Runtime
from services.core.timeline_filters import filtered
from services.timeline import plan
from services.timeline.metrics import get_metrics
from services.timeline.render import Reading, entry, unrecognised_entry
from services.timeline.report import get_report

QUEUE = "timeline"


async def get_timeline(rt: Runtime, query: GetTimeline, principal: Principal) -> Reply:
    with collector_paused():
        return await _timeline(rt, query, principal)


async def _timeline(rt: Runtime, query: GetTimeline, principal: Principal) -> Reply:
    reader = access.reader_of(principal, rt.roster)
    stored, digest = await rt.store.history_and_digest(subjects.incident_events(query.incident_id))
    readable = [s for s in stored if isinstance(s, Stored)]
    logged = next((s.event for s in readable if isinstance(s.event, IncidentLogged)), None)
    exercise = logged is not None and logged.exercise
    access.require(access.decide(reader, Action.READ_TIMELINE, Target(exercise=exercise)))
    if logged is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {query.incident_id}")
    summary = IncidentSummary.from_logged(logged)
    for s in readable:
        summary = summary.after(s.event)
    shown = filtered(shown_entries(stored, Reading(reader, rt.roster)), query)
    return ok(Timeline(incident=summary, entries=shown, record_digest=digest), changed=False)


def shown_entries(
    stored: list[Stored[AnyEvent] | Unrecognised], reading: Reading
) -> tuple[TimelineEntry, ...]:
    # A periodic seal is bookkeeping of the record, not something that happened in the
    # response: `pathways timeline verify` reports on it, and the digest covers it.
    return tuple(
        entry(s.event, s.seq, reading=reading)
        if isinstance(s, Stored)
        else unrecognised_entry(s.event_type, s.at, s.seq)
        for s in stored
        if not (isinstance(s, Stored) and isinstance(s.event, RecordSealed))
    )


def build(rt: Runtime) -> NatsRouter:
    router = NatsRouter()
    serve(
        router,
        subjects.QRY_TIMELINE,
        GetTimeline,
        partial(get_timeline, rt),
        queue=QUEUE,
        verifier=rt.verifying_key,
    )
    for subject, model, handler in (
        (subjects.QRY_REVIEW_FINDINGS, GetFindings, plan.get_findings),
        (subjects.QRY_REVIEW_ACTIONS, GetCorrectiveActions, plan.get_actions),
        (subjects.QRY_REVIEW_METRICS, GetMetrics, get_metrics),
        (subjects.QRY_REVIEW_REPORT, GetReviewReport, get_report),
    ):
        serve(router, subject, model, partial(handler, rt), queue=QUEUE,
              verifier=rt.verifying_key)  # fmt: skip
    return router
