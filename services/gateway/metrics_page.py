"""Response metrics across incidents in the console (`/review/metrics`): a GET form (since, type,
exercises), the figures the services keep (`pw.qry.review.metrics`), and the report's chart of
time to acknowledge against the window, by role family and by role, with the tables.

Who may read them (command staff, reviewers, administrators), the services decide."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Annotated

from fastapi import Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from schemas import subjects
from schemas.base import utc_now
from schemas.metrics import MetricsReply, MetricsSummary
from schemas.principals import Principal
from schemas.views import PlaybookInfo
from services.core import access
from services.core.report_charts import AckRow, ack_chart
from services.core.report_figures import GROUP_HEADINGS, group_row
from services.core.times import BadTime, parse_since
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import read
from services.gateway.pages import page
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in
from services.gateway.when import utc

router = console_router()

DEFAULT_SINCE = "90d"
LONGEST_SINCE = 40
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SINCE_ERROR = "Since: give a span back (90d, 12w, 36h) or a date such as 2026-01-31"
TYPE_ERROR = "Incident type: choose one from the list"


def may_read_metrics(request: Request, principal: Principal) -> bool:
    reader = access.reader_of(principal, console_of(request).rt.roster)
    return access.decide(reader, access.Action.READ_METRICS).allowed


def _ack_rows(groups: dict[str, MetricsSummary]) -> list[AckRow]:
    rows = [AckRow(name, g, g.median_acknowledge_window) for name, g in groups.items()]
    return [r for r in rows if r.figures.median_acknowledge is not None or r.window]


def _table(caption: str, kind: str, groups: dict[str, MetricsSummary]) -> tuple[object, ...]:
    return (caption, (kind, *GROUP_HEADINGS), [group_row(n, g) for n, g in groups.items()])


def figures_context(reply: MetricsReply) -> dict[str, object]:
    metrics = reply.metrics
    return {
        "reply": reply,
        "as_of": utc(reply.as_of),
        "from": utc(reply.since),
        # Built from escaped text only (services.core.report_charts).
        "family_chart": Markup(ack_chart("role family", _ack_rows(metrics.by_family), "fam")),
        "role_chart": Markup(ack_chart("role", _ack_rows(metrics.by_role), "role")),
        "tables": [
            _table("Overall", "Tasks counted", {"every task": metrics.overall}),
            _table("Timings by role family", "Role family", metrics.by_family),
            _table("Timings by role", "Role", metrics.by_role),
            _table("Timings by phase", "Phase", metrics.by_phase),
        ],
        "follow_ups": metrics.follow_ups,
    }


async def _types(request: Request, principal: Principal) -> list[str]:
    """The incident types of the playbook library, for the form's choice list."""
    try:
        found: list[PlaybookInfo] = await read(request, principal, subjects.QRY_PLAYBOOK_LIST, {})
    except ConsoleRefusal:
        return []
    return sorted({t for info in found for t in info.incident_types})


@router.get("/review/metrics")
async def metrics_page(
    request: Request,
    principal: Annotated[Principal, Depends(signed_in)],
    since: str = DEFAULT_SINCE,
    type: str = "",
    exercises: str = "",
) -> Response:
    errors: list[tuple[str, str]] = []
    start = utc_now() - timedelta(days=90)
    try:
        start = parse_since(since[:LONGEST_SINCE], utc_now(), UTC)
    except BadTime:
        errors.append(("since", SINCE_ERROR))
    if type and not SLUG.match(type):
        errors.append(("type", TYPE_ERROR))
    context: dict[str, object] = {
        "section": "board",
        "wide": True,
        "since": since[:LONGEST_SINCE],
        "type": type,
        "exercises": bool(exercises),
        "types": await _types(request, principal),
        "errors": errors,
        "error_fields": {field for field, _ in errors},
    }
    if errors:
        return page(request, "metrics.html", context, status=422)
    fields = {"since": start, "incident_type": type or None, "exercises": bool(exercises)}
    reply: MetricsReply = await read(request, principal, subjects.QRY_REVIEW_METRICS, fields)
    return page(request, "metrics.html", {**context, **figures_context(reply)})
