"""pathways inbox: a person's notices, newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from schemas import subjects
from schemas.commands import ListInbox
from schemas.limits import LIST_LIMIT_DEFAULT
from schemas.notifications import InboxEntry
from services.cli.client import SIGN_IN, execute, fail, make
from services.cli.credentials import signed_in
from services.cli.listing import Column, Listing, when
from services.cli.options import DEFAULT_URL, Json, NatsUrl
from services.cli.output import out, print_json
from services.cli.pages import CursorOpt, Every, Limit, fetch_pages, more_hint


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def inbox_json(entry: InboxEntry) -> dict[str, Any]:
    return {
        "id": entry.notice_id,
        "kind": entry.kind.value,
        "at": entry.at.isoformat(),
        "subject": entry.subject,
        "task": entry.task_id,
        "incident": entry.incident_id,
        "title": entry.task_title,
        "incident_type": entry.incident_type,
        "acknowledge_by": _iso(entry.acknowledge_by),
        "due_by": _iso(entry.due_by),
        "restricted": entry.restricted,
        "urgent": entry.urgent,
        "exercise": entry.exercise,
        "link": entry.link,
        "missed_by": entry.missed_by,
        "step": entry.step,
    }


def inbox_table(entries: list[InboxEntry], now: datetime | None = None) -> Listing:
    now = now or datetime.now(UTC)
    columns = [Column("WHEN (UTC)"), Column("KIND"), Column("TASK"), Column("MESSAGE")]
    rows = [
        [
            when(entry.at, now),
            entry.kind.value + (" URGENT" if entry.urgent else ""),
            entry.task_id,
            entry.subject,
        ]
        for entry in entries
    ]
    return Listing(columns, rows)


Reader = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="PATHWAYS_ACTOR",
        help="Whose notices (example roster and exercises); without it, the signed-in account's.",
        show_default=False,
    ),
]


def inbox(
    person: Reader = None,
    limit: Limit = LIST_LIMIT_DEFAULT,
    cursor: CursorOpt = None,
    every: Every = False,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Your notices — tasks given to you, reminders, escalations — newest first."""
    if person is None and signed_in() is None:
        fail(SIGN_IN)
    query = make(ListInbox, person=person, limit=limit, cursor=cursor)
    listed = fetch_pages(nats_url, subjects.QRY_INBOX, query, every, reader=person)
    items, page = execute(listed)
    entries = [InboxEntry.model_validate(item) for item in items]
    command = ["pathways", "inbox", *(["--as", person] if person else [])]
    command += ["--limit", str(limit)] if limit != LIST_LIMIT_DEFAULT else []
    if as_json:
        print_json([inbox_json(entry) for entry in entries])
    elif entries:
        out.print(inbox_table(entries))
    else:
        out.print(f"No notices for {person or 'you'}.", markup=False)
    # Last, where someone reading a terminal looks for what comes next.
    more_hint(page, command + (["--json"] if as_json else []))
