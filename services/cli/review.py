"""pathways review: what reviewers of an incident read after it (an activity log per responder)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from schemas.commands import GetTimeline
from services.cli import contract
from services.cli.client import execute, make, person_option
from services.cli.options import DEFAULT_URL, NatsUrl
from services.cli.output import entry_json, incident_json, json_text
from services.cli.review_options import (
    Format,
    FormatOpt,
    chosen_format,
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
from services.core.review_html import activity_html

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
