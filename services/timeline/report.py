"""Answers `pw.qry.review.report`: an incident's after-action report for one audience, built by
replaying its events as the timeline does."""

from __future__ import annotations

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import ErrorCode, Reply
from schemas.events import IncidentLogged
from schemas.principals import Principal
from schemas.report import GetReviewReport, ReportDocument, ReportFormat, ReviewReport
from schemas.views import IncidentSummary
from services.core import access
from services.core.access import Action, Target
from services.core.collector import collector_paused
from services.core.errors import Refused
from services.core.eventstore import Stored
from services.core.metrics import families_in
from services.core.report_build import build_report
from services.core.report_html import report_html
from services.core.report_text import report_markdown
from services.core.rpc import ok
from services.core.runtime import Runtime
from services.timeline.render import Reading, entries


async def get_report(rt: Runtime, query: GetReviewReport, principal: Principal) -> Reply:
    with collector_paused():
        return await _report(rt, query, principal)


async def _report(rt: Runtime, query: GetReviewReport, principal: Principal) -> Reply:
    reader = access.reader_of(principal, rt.roster)
    stored, digest = await rt.store.history_and_digest(subjects.incident_events(query.incident_id))
    readable = [s for s in stored if isinstance(s, Stored)]
    logged = next((s.event for s in readable if isinstance(s.event, IncidentLogged)), None)
    exercise = logged is not None and logged.exercise
    target = Target(exercise=exercise, audience=query.audience)
    access.require(access.decide(reader, Action.READ_REPORT, target))
    if logged is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {query.incident_id}")
    summary = IncidentSummary.from_logged(logged)
    for s in readable:
        summary = summary.after(s.event)
    events = [s.event for s in readable]
    # An event this version cannot read is left out: its body could hold anything.
    audience_reader = access.audience_reader(principal, query.audience)
    seen = entries([(s.event, s.seq) for s in readable], Reading(audience_reader, rt.roster))
    now = utc_now()
    report = build_report(
        summary,
        audience_reader,
        query.audience,
        events,
        seen,
        families_in(rt.roster),
        now,
        record_digest=digest,
    )
    if query.format is None:
        return ok(report, changed=False)
    return ok(rendered(report, query.format), changed=False)


def rendered(report: ReviewReport, chosen: ReportFormat) -> ReportDocument:
    text = report_html(report) if chosen is ReportFormat.HTML else report_markdown(report)
    return ReportDocument(
        incident_id=report.incident.incident_id,
        audience=report.audience,
        format=chosen,
        text=text,
        record_digest=report.record_digest,
    )
