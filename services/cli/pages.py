"""Reading list replies page by page: one page by default, every page with --all, and a line on
stderr saying how many more there are and the command that shows them."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from schemas.commands import ListQuery, Reply
from schemas.limits import LIST_LIMIT_DEFAULT
from schemas.replies import RawPage
from services.cli import http_api
from services.cli.client import Refusal, errors
from services.cli.credentials import signed_in
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
    sees them (over HTTP as the signed-in account when no reader is named and a token is
    there)."""
    api = signed_in() if reader is None else None
    if api is not None:
        return await _pages(lambda q: http_api.call(api, subject, q, timeout), query, every)
    caller = caller_for(query, reader)
    nc = await connect(url)
    try:
        return await _pages(lambda q: call(nc, subject, q, caller, timeout), query, every)
    finally:
        await nc.close()


async def _pages(
    ask: Callable[[QueryT], Awaitable[Reply]], query: QueryT, every: bool
) -> tuple[list[dict[str, Any]], RawPage]:
    items: list[dict[str, Any]] = []
    while True:
        reply = await ask(query)
        if not reply.ok:
            assert reply.error is not None
            raise Refusal(reply.error.message)
        page = RawPage.model_validate(reply.data)
        items.extend(page.items)
        if not every or page.next_cursor is None:
            return items, page
        query = query.model_copy(update={"cursor": page.next_cursor})


def more_hint(page: RawPage, command: list[str]) -> None:
    """On stderr, so --json output stays the list it always was."""
    if page.next_cursor is None:
        return
    count = f"{page.remaining:,}" if page.remaining_exact else f"up to {page.remaining:,}"
    shown = shlex.join([*command, "--cursor", page.next_cursor])
    errors.print(f"{count} more; next page: {shown}", markup=False)
