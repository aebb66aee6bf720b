"""Reading list replies page by page: one page by default, every page with --all, and a line on
stderr saying how many more there are and the command that shows them."""

from __future__ import annotations

import shlex
from typing import Annotated, Any, TypeVar

import typer

from schemas.commands import ListQuery
from schemas.limits import LIST_LIMIT_DEFAULT
from schemas.replies import RawPage
from services.cli.client import Refusal, errors
from services.cli.identity import caller_for
from services.core.broker import connect
from services.core.rpc import call

QueryT = TypeVar("QueryT", bound=ListQuery)

Limit = Annotated[
    int,
    typer.Option("--limit", help=f"Items on one page (default {LIST_LIMIT_DEFAULT}, at most 500)."),
]
CursorOpt = Annotated[
    str | None, typer.Option("--cursor", help="Where the previous page ended (it prints this).")
]
Every = Annotated[bool, typer.Option("--all", help="Every page, one request after another.")]


async def fetch_pages(
    url: str,
    subject: str,
    query: QueryT,
    every: bool,
    timeout: float = 10.0,
    *,
    reader: str | None = None,
) -> tuple[list[dict[str, Any]], RawPage]:
    """The items of one page (or of every page after it), and the last page read, as `reader`
    sees them."""
    caller = caller_for(query, reader)
    nc = await connect(url)
    items: list[dict[str, Any]] = []
    try:
        while True:
            reply = await call(nc, subject, query, caller, timeout)
            if not reply.ok:
                assert reply.error is not None
                raise Refusal(reply.error.message)
            page = RawPage.model_validate(reply.data)
            items.extend(page.items)
            if not every or page.next_cursor is None:
                return items, page
            query = query.model_copy(update={"cursor": page.next_cursor})
    finally:
        await nc.close()


def more_hint(page: RawPage, command: list[str]) -> None:
    """On stderr, so --json output stays the list it always was."""
    if page.next_cursor is None:
        return
    count = f"{page.remaining:,}" if page.remaining_exact else f"up to {page.remaining:,}"
    shown = shlex.join([*command, "--cursor", page.next_cursor])
    errors.print(f"{count} more; next page: {shown}", markup=False)
