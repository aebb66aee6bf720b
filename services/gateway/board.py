"""The incidents board (`/`): for command staff and reviewers, open incidents first, each with
its progress and what needs attention. Responders, who may not list incidents, go to `/my`.

What it costs: one incident-list query (the first page, BOARD_INCIDENTS), then one task-list
query per incident on it that is not closed (at most TASK_QUERIES_AT_ONCE at a time)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from schemas import subjects
from schemas.base import utc_now
from schemas.enums import IncidentStatus
from schemas.limits import LIST_LIMIT_MAX
from schemas.principals import Principal
from schemas.replies import Page
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentListItem
from services.core import access
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import read
from services.gateway.incident_views import INCIDENT_WORDS, Attention, age, attention
from services.gateway.pages import page
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in

router = console_router()

BOARD_INCIDENTS = 25
TASK_QUERIES_AT_ONCE = 5
NOT_LISTED = 403


@dataclass(frozen=True)
class BoardRow:
    incident: IncidentListItem
    status: str
    age: str
    attention: Attention


async def _tasks_of(
    request: Request, principal: Principal, incident_id: str, gate: asyncio.Semaphore
) -> list[TaskSnapshot]:
    fields = {"incident_id": incident_id, "limit": LIST_LIMIT_MAX}
    async with gate:
        found: Page[TaskSnapshot] = await read(request, principal, subjects.QRY_TASK_LIST, fields)
    return found.items


async def board_rows(request: Request, principal: Principal) -> list[BoardRow]:
    """The first page of incidents, open ones first (newest first within each)."""
    fields = {"limit": BOARD_INCIDENTS}
    listed: Page[IncidentListItem] = await read(
        request, principal, subjects.QRY_INCIDENT_LIST, fields
    )
    incidents = sorted(listed.items, key=lambda i: i.status is IncidentStatus.CLOSED)
    gate = asyncio.Semaphore(TASK_QUERIES_AT_ONCE)
    opened = [i for i in incidents if i.status is not IncidentStatus.CLOSED]
    found = await asyncio.gather(
        *(_tasks_of(request, principal, i.incident_id, gate) for i in opened)
    )
    tasks = {i.incident_id: t for i, t in zip(opened, found, strict=True)}
    now = utc_now()
    return [
        BoardRow(
            incident=i,
            status=INCIDENT_WORDS[i.status],
            age=age(i, now),
            attention=attention(tasks.get(i.incident_id, ()), now),
        )
        for i in incidents
    ]


def may_log(request: Request, principal: Principal) -> bool:
    reader = access.reader_of(principal, console_of(request).rt.roster)
    return access.decide(reader, access.Action.LOG_INCIDENT).allowed


async def _board_context(request: Request, principal: Principal) -> dict[str, object]:
    return {
        "rows": await board_rows(request, principal),
        "may_log": may_log(request, principal),
        "may_read_metrics": access.decide(
            access.reader_of(principal, console_of(request).rt.roster), access.Action.READ_METRICS
        ).allowed,
        "section": "board",
    }


@router.get("/")
async def board(request: Request, principal: Annotated[Principal, Depends(signed_in)]) -> Response:
    try:
        context = await _board_context(request, principal)
    except ConsoleRefusal as refused:
        if refused.status != NOT_LISTED:
            raise
        return RedirectResponse("/my", status_code=303, headers={"cache-control": "no-store"})
    return page(request, "board.html", context)


@router.get("/fragments/board")
async def board_fragment(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    """The board's list alone, for live updates; refused as the board is (a page saying why)."""
    return page(request, "fragments/board.html", await _board_context(request, principal))
