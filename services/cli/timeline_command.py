"""pathways timeline: an incident's events in order, for reviewers: T+ from when it was logged,
filters, and text, JSON, Markdown or a self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas import subjects
from schemas.commands import GetTimeline
from schemas.views import Timeline
from services.cli import contract
from services.cli.client import execute, fail, make, request
from services.cli.options import DEFAULT_URL, Json, NatsUrl
from services.cli.output import entry_json, incident_json, json_text
from services.cli.review_options import (
    Format,
    FormatOpt,
    chosen_format,
    event_types,
    role_ids,
    text_width,
)
from services.cli.roster_source import from_server
from services.cli.timeline_verify import verify_record
from services.core.review_html import timeline_html
from services.core.timeline_filters import filtered
from services.core.timeline_formats import timeline_lines, timeline_markdown


def fetch_timeline(nats_url: str, query: GetTimeline) -> Timeline:
    """The timeline the query asks for. The service filters it; filtering again here changes
    nothing then, and filters what a gateway that does not take the filters returns in full."""
    reply = execute(request(nats_url, subjects.QRY_TIMELINE, query))
    found = Timeline.model_validate(reply.data)
    return found.model_copy(update={"entries": filtered(found.entries, query)})


def known_roles(nats_url: str) -> list[str]:
    return [role.id for role in execute(from_server(nats_url)).roster.roles]


def rendered(found: Timeline, query: GetTimeline, chosen: Format, width: int | None) -> str:
    if chosen is Format.JSON:
        document = {
            "incident": incident_json(found.incident),
            "entries": [entry_json(e, found.incident) for e in found.entries],
            "record_digest": found.record_digest,
        }
        return json_text(document)
    if chosen is Format.MD:
        return timeline_markdown(found, query)
    if chosen is Format.HTML:
        return timeline_html(found, query)
    return "\n".join(timeline_lines(found, query, width)) + "\n"


def timeline(
    incident_id: Annotated[
        str, typer.Argument(metavar="INCIDENT", help="The incident, or `verify INCIDENT`.")
    ],
    verified: Annotated[str | None, typer.Argument(hidden=True)] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", metavar="ROLE", help="Only tasks of this role (repeatable)."),
    ] = None,
    phase: Annotated[
        list[str] | None,
        typer.Option("--phase", metavar="PHASE", help="Only tasks of this phase (repeatable)."),
    ] = None,
    person: Annotated[
        list[str] | None,
        typer.Option(
            "--person",
            metavar="PERSON",
            help="Only what this person did, held or wrote (repeatable).",
        ),
    ] = None,
    event_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type", metavar="TYPE", help="Only events of this type, e.g. completed (repeatable)."
        ),
    ] = None,
    output_format: FormatOpt = "text",
    as_json: Json = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    nats_url: NatsUrl = DEFAULT_URL,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key",
            envvar="PATHWAYS_RECORD_PUBLIC_KEY_FILE",
            help="With verify: the record's public key (default: the data directory's).",
        ),
    ] = None,
) -> None:
    """The incident's events in order, replayed from the stream, with T+ from when it was logged.

    `pathways timeline verify INCIDENT` checks the record's seals instead: exit 0 when intact,
    1 naming the first event deleted, altered or inserted outside the services."""
    if incident_id == "verify" and verified is not None:
        verify_record(nats_url, verified, key_file)
        return
    if verified is not None:
        fail(f"unexpected argument {verified!r}: one incident, or `verify INCIDENT`")
    chosen = chosen_format(output_format, as_json)
    types = event_types(event_type or [])
    roles = role_ids(role, known_roles(nats_url)) if role else ()
    query = make(
        GetTimeline,
        incident_id=incident_id,
        roles=roles,
        phases=tuple(phase or ()),
        people=tuple(person or ()),
        types=types,
    )
    found = fetch_timeline(nats_url, query)
    contract.emit(rendered(found, query, chosen, None if out_file else text_width()), out_file)
