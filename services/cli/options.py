"""Options shared by the client commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.core.settings import DEFAULT_NATS_URL

NatsUrl = Annotated[
    str,
    typer.Option("--nats-url", envvar="PATHWAYS_NATS_URL", help="NATS server(s), comma-separated."),
]
Json = Annotated[bool, typer.Option("--json", help="Print stable JSON (see docs/cli.md).")]
RequestIdOpt = Annotated[
    str | None,
    typer.Option("--request-id", help="Reuse to retry safely: the same id never applies twice."),
]


RosterFile = Annotated[
    Path | None,
    typer.Option(
        "--roster",
        envvar="PATHWAYS_ROSTER",
        help="Roster file (default: ./rosters/example.yaml, else the shipped example).",
        show_default=False,
    ),
]
Actor = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="PATHWAYS_ACTOR",
        help="Act as this roster member (example roster and exercises only); without it, as "
        "the account signed in with `pathways login` or PATHWAYS_TOKEN.",
        show_default=False,
    ),
]
DEFAULT_URL = DEFAULT_NATS_URL
