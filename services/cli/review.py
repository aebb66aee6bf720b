"""pathways review: what reviewers read after an incident (an activity log per responder) and
across incidents (response metrics)."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import typer

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import GetTimeline
from schemas.metrics import GetMetrics, MetricsReply
from schemas.report import GetReviewReport, ReportDocument, ReportFormat, ReviewReport
from services.cli import contract
from services.cli.client import errors, execute, make, person_option, request
from services.cli.options import DEFAULT_URL, NatsUrl
from services.cli.output import entry_json, incident_json, json_text
from services.cli.review_options import (
    AudienceOpt,
    Format,
    FormatOpt,
    chosen_audience,
    chosen_format,
    report_format,
    text_width,
    usage_error,
)
from services.cli.review_plan import actions, findings
from services.cli.roster_source import from_server
from services.cli.timeline_command import fetch_timeline
from services.core.activity import (
    ActivityLog,
    activity_lines,
    activity_log,
    activity_markdown,
    notable,
    people_in,
)
from services.core.metrics_formats import metrics_csv, metrics_json, metrics_lines
from services.core.report_text import report_document
from services.core.review_html import activity_html
from services.core.times import BadTime, parse_since

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

app = typer.Typer(
    help="After-action review of an incident.", no_args_is_help=True, add_completion=False
)
app.add_typer(findings, name="finding")
app.add_typer(actions, name="action")


def _json(log: ActivityLog) -> str:
    people: list[dict[str, Any]] = [
        {
            **asdict(each.responder),
            "activities": [entry_json(e, log.incident) for e in each.activities],
        }
        for each in log.logs
    ]
    start, end = log.period
    return json_text(
        {
            "incident": incident_json(log.incident),
            "period": {"from": start.isoformat(), "to": end.isoformat() if end else None},
            "people": people,
        }
    )


def _rendered(log: ActivityLog, chosen: Format, width: int | None) -> str:
    if chosen is Format.JSON:
        return _json(log)
    if chosen is Format.MD:
        return activity_markdown(log)
    if chosen is Format.HTML:
        return activity_html(log)
    return "\n".join(activity_lines(log, width)) + "\n"


@app.command()
def activity(
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT")],
    person: Annotated[
        str | None, typer.Option("--person", help="Only this person's log.", show_default=False)
    ] = None,
    output_format: FormatOpt = "text",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """An activity log per responder (as ICS 214 lays one out): who they are, then what they
    did, in time order, as the timeline shows it to you."""
    chosen = chosen_format(output_format, as_json=False)
    person_option(person, "--person")
    query = make(GetTimeline, incident_id=incident_id, people=(person,) if person else ())
    found = fetch_timeline(nats_url, query)
    roster = execute(from_server(nats_url)).roster
    if person is None:
        people = people_in(found, roster)
    elif any(m.id == person for m in roster.members) or any(
        notable(e, person) for e in found.entries
    ):
        people = [person]
    else:
        usage_error(f"--person {person} is not on the roster and did nothing in {incident_id}")
    log = activity_log(found, roster, people)
    contract.emit(_rendered(log, chosen, None if out_file else text_width()), out_file)


@app.command()
def metrics(
    since: Annotated[
        str,
        typer.Option(
            "--since", metavar="SPAN|TIME", help="A span back (90d, 12w, 36h) or a date or time."
        ),
    ] = "90d",
    incident_type: Annotated[
        str | None,
        typer.Option(
            "--type", metavar="TYPE", help="Only incidents of this type.", show_default=False
        ),
    ] = None,
    exercises: Annotated[bool, typer.Option("--exercises", help="Count exercises too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="One row per group, as CSV.")] = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Response metrics across incidents, from the metrics the services keep: per role family,
    role and phase, time to acknowledge and complete (median, p90), the share of windows met,
    escalations, declines, reassignments, skipped tasks, and follow-ups."""
    if as_json and as_csv:
        usage_error("--json and --csv ask for different formats; give one")
    try:
        start = parse_since(since, utc_now(), UTC)
    except BadTime as exc:
        usage_error(str(exc))
    if incident_type is not None and not SLUG.match(incident_type):
        usage_error(
            f"--type {incident_type!r} is not an incident type (e.g. officer-involved-shooting)"
        )
    query = make(GetMetrics, since=start, incident_type=incident_type, exercises=exercises)
    reply = execute(request(nats_url, subjects.QRY_REVIEW_METRICS, query))
    found = MetricsReply.model_validate(reply.data)
    if as_json:
        text = metrics_json(found)
    elif as_csv:
        text = metrics_csv(found)
    else:
        text = "\n".join(metrics_lines(found)) + "\n"
    contract.emit(text, None)


def _report_text(reply_data: Any, chosen: Format) -> tuple[str, str | None]:
    """The report's text and the digest of the record it was built from. HTML and Markdown
    come rendered by the timeline service; JSON is the report's data, as readers of it expect."""
    if chosen is Format.JSON:
        found = ReviewReport.model_validate(reply_data)
        return json_text(report_document(found)), found.record_digest
    document = ReportDocument.model_validate(reply_data)
    return document.text, document.record_digest


@app.command()
def report(
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT")],
    audience: AudienceOpt = "public",
    output_format: FormatOpt = "html",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    viewer: Annotated[
        str | None,
        typer.Option("--as", envvar="PATHWAYS_ACTOR", help="Who is reading.", show_default=False),
    ] = None,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """The after-action report of an incident: metrics, charts and the timeline as the
    audience may read them. HTML is one self-contained file that prints as a clean PDF."""
    chosen = report_format(output_format)
    rendered_as = None if chosen is Format.JSON else ReportFormat(chosen.value)
    query = make(
        GetReviewReport,
        incident_id=incident_id,
        audience=chosen_audience(audience),
        format=rendered_as,
    )
    person_option(viewer, "--as")
    reply = execute(request(nats_url, subjects.QRY_REVIEW_REPORT, query, reader=viewer))
    text, digest = _report_text(reply.data, chosen)
    contract.emit(text, out_file)
    if digest:
        errors.print(f"Record digest: {digest}", markup=False)
