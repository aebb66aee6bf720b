"""Options shared by the client commands."""

from __future__ import annotations

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


RequiredActor = Annotated[
    str, typer.Option("--as", envvar="PATHWAYS_ACTOR", help="Who is acting (a roster member id).")
]
DEFAULT_URL = DEFAULT_NATS_URL
