"""An incident's after-action report in the console (`/incidents/{id}/report`), for the highest
audience the viewer's access allows (or a lower one, `?audience=`), and the same report as one
self-contained HTML file to download (`/incidents/{id}/report.html`).

The services build the report (`pw.qry.review.report`) and refuse an audience the viewer may not
have; the page only shows what the reply holds, with the report's own figures and charts
(services.core.report_figures, report_charts). The charts are SVG with presentation attributes
only, so they draw under the console's Content-Security-Policy; the page takes its looks from
the console's stylesheet. The downloaded file keeps its own inline stylesheet and its own
policy (no script, nothing loaded), sent as its header too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from schemas import subjects
from schemas.principals import Principal
from schemas.report import Audience, ReportDocument, ReportFormat, ReviewReport
from services.core import access
from services.core.report_charts import ack_groups, ack_svg, swimlane_svg
from services.core.report_figures import (
    AUDIENCES,
    GROUP_HEADINGS,
    TASK_HEADINGS,
    group_row,
    group_tables,
    no_plan_line,
    overall_facts,
    plan_lines,
    report_facts,
    task_row,
    withheld_line,
)
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import read
from services.gateway.incident_page import check_incident_id
from services.gateway.pages import page
from services.gateway.reader import page_reader
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in
from services.gateway.timeline_page import by_name, named
from services.gateway.when import since, utc

router = console_router()

# Highest first: the one a page opens with is the first the viewer may have.
BY_REACH = (Audience.FULL, Audience.COMMAND, Audience.PUBLIC)
# The downloaded file's own policy (its <meta> says the same): its inline stylesheet, nothing
# else, so that it opens as it was made when the browser shows it rather than saving it.
FILE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
)


def audiences_for(request: Request, principal: Principal) -> list[Audience]:
    """The audiences whose report the viewer may read, highest first (none for a responder)."""
    reader = access.reader_of(principal, console_of(request).rt.roster)
    return [
        audience
        for audience in BY_REACH
        if access.decide(
            reader, access.Action.READ_REPORT, access.Target(audience=audience)
        ).allowed
    ]


def chosen_audience(request: Request, principal: Principal, asked: str | None) -> Audience:
    """The audience asked for, or the viewer's highest (public when they have none: the
    services then refuse, with the reason)."""
    if asked:
        try:
            return Audience(asked)
        except ValueError:
            raise ConsoleRefusal(400, "The audience is public, command or full.") from None
    allowed = audiences_for(request, principal)
    return allowed[0] if allowed else Audience.PUBLIC


async def _ask(
    request: Request,
    principal: Principal,
    incident_id: str,
    audience: Audience,
    rendered_as: ReportFormat | None = None,
) -> Any:
    """The report's data, or with `rendered_as` the document the timeline service renders."""
    check_incident_id(incident_id)
    fields = {"incident_id": incident_id, "audience": audience, "format": rendered_as}
    return await read(request, principal, subjects.QRY_REVIEW_REPORT, fields)


async def _report(
    request: Request, principal: Principal, incident_id: str, audience: Audience
) -> ReviewReport:
    found: ReviewReport = await _ask(request, principal, incident_id, audience)
    return found


def _entries(request: Request, principal: Principal, report: ReviewReport) -> list[dict[str, str]]:
    roster = console_of(request).rt.roster
    reader, people, start = (
        page_reader(principal, roster),
        by_name(roster),
        report.incident.logged_at,
    )
    return [
        {
            "at": utc(e.at),
            "iso": e.at.isoformat(),
            "offset": since(e.at, start),
            "who": reader.name(e.actor),
            "text": named(e.text, roster, people),
            "note": e.note or "",
            "tier": e.tier.value,
        }
        for e in sorted(report.entries, key=lambda e: e.seq)
    ]


def report_context(
    request: Request, principal: Principal, report: ReviewReport
) -> dict[str, object]:
    incident = report.incident
    audience = report.audience.value
    reader = access.reader_of(principal, console_of(request).rt.roster)
    return {
        "section": "board",
        "wide": True,
        "incident": incident,
        # Administrators read reports but not the incident's own page: no link to it for them.
        "reads_incident": access.decide(reader, access.Action.LIST_INCIDENTS).allowed,
        "audience": report.audience,
        "audience_words": AUDIENCES[report.audience],
        "audiences": [(a, AUDIENCES[a]) for a in audiences_for(request, principal)],
        "download": f"/incidents/{incident.incident_id}/report.html?audience={audience}",
        "facts": report_facts(report),
        "overall": overall_facts(report),
        # Built from escaped text only (services.core.report_charts).
        "swimlane": Markup(swimlane_svg(report)),
        "ack_chart": Markup(ack_svg(report)),
        "ack_kind": ack_groups(report)[0],
        "group_tables": [
            (caption, (kind, *GROUP_HEADINGS), [group_row(n, g) for n, g in groups.items()])
            for caption, kind, groups in group_tables(report)
        ],
        "task_headings": TASK_HEADINGS,
        "task_rows": [task_row(t) for t in report.tasks],
        "findings": plan_lines(report),
        "no_plan": no_plan_line(report),
        "withheld": withheld_line(report),
        "entries": _entries(request, principal, report),
    }


@router.get("/incidents/{incident_id}/report")
async def report_page(
    request: Request,
    incident_id: str,
    principal: Annotated[Principal, Depends(signed_in)],
    audience: str | None = None,
) -> Response:
    chosen = chosen_audience(request, principal, audience)
    report = await _report(request, principal, incident_id, chosen)
    return page(request, "report.html", report_context(request, principal, report))


@router.get("/incidents/{incident_id}/report.html")
async def report_file(
    request: Request,
    incident_id: str,
    principal: Annotated[Principal, Depends(signed_in)],
    audience: str | None = None,
) -> Response:
    chosen = chosen_audience(request, principal, audience)
    document: ReportDocument = await _ask(
        request, principal, incident_id, chosen, ReportFormat.HTML
    )
    name = f"{document.incident_id}-{chosen.value}-report.html"
    headers = {
        "content-disposition": f'attachment; filename="{name}"',
        "content-security-policy": FILE_POLICY,
        "cache-control": "no-store",
    }
    return Response(document.text, media_type="text/html; charset=utf-8", headers=headers)
