"""The console's live streams (Server-Sent Events), for someone signed in:

- `/live/board`: an incident (its summary or one of its tasks) changed; for whoever may list
  incidents.
- `/live/incidents/{id}`: that incident, or one of its tasks, changed; for whoever may read it.
- `/live/my`: some task changed, without saying which (`event: task`, `data: changed`): a
  responder may not know of incidents they hold no task in, not even their ids; the page
  refetches the tasks its reader may see.

Each event carries an id and nothing else (`event: incident`, `data: INC-…`, or `event: task`,
`data: INC-….key`): the page then refetches its fragment through the usual access checks, so no
title or note ever rides a stream. A stream ends when the gateway stops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from schemas import subjects
from schemas.principals import Principal
from services.core import access
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import read
from services.gateway.incident_page import check_incident_id
from services.gateway.live import Broadcaster, Change
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in

router = console_router()

PING_SECONDS = 15
# A client that takes longer than this to take one event is dropped (it reconnects if alive).
SEND_TIMEOUT_SECONDS = 10
NOT_LISTED = "Only command staff and reviewers see the incidents board."


def _broadcaster(request: Request) -> Broadcaster:
    feed = console_of(request).live
    if feed is None:
        raise ConsoleRefusal(503, "Live updates are not available; reload the page instead.")
    return feed.broadcaster


def _event(change: Change) -> ServerSentEvent:
    if change.task_id is None:
        return ServerSentEvent(data=change.incident_id, event="incident")
    return ServerSentEvent(data=change.task_id, event="task")


def _anonymous_event(change: Change) -> ServerSentEvent:
    return ServerSentEvent(data="changed", event="task")


def _board_event(change: Change) -> ServerSentEvent:
    return ServerSentEvent(data=change.incident_id, event="incident")


async def _events(
    broadcaster: Broadcaster,
    wants: Callable[[Change], bool],
    render: Callable[[Change], ServerSentEvent],
) -> AsyncIterator[ServerSentEvent]:
    listener = broadcaster.listen(wants)
    try:
        while (change := await listener.queue.get()) is not None:
            yield render(change)
    finally:
        broadcaster.leave(listener)


def _stream(
    request: Request,
    wants: Callable[[Change], bool],
    render: Callable[[Change], ServerSentEvent] = _event,
) -> EventSourceResponse:
    return EventSourceResponse(
        _events(_broadcaster(request), wants, render),
        ping=PING_SECONDS,
        send_timeout=SEND_TIMEOUT_SECONDS,
    )


@router.get("/live/board")
async def live_board(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> EventSourceResponse:
    reader = access.reader_of(principal, console_of(request).rt.roster)
    if not access.decide(reader, access.Action.LIST_INCIDENTS).allowed:
        raise ConsoleRefusal(403, NOT_LISTED)
    return _stream(request, lambda change: True, _board_event)


@router.get("/live/incidents/{incident_id}")
async def live_incident(
    request: Request, incident_id: str, principal: Annotated[Principal, Depends(signed_in)]
) -> EventSourceResponse:
    check_incident_id(incident_id)
    # Whoever may not read the incident hears nothing of it: the services decide.
    await read(request, principal, subjects.QRY_INCIDENT_GET, {"incident_id": incident_id})
    return _stream(request, lambda change: change.incident_id == incident_id)


@router.get("/live/my")
async def live_my(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> EventSourceResponse:
    return _stream(request, lambda change: change.task_id is not None, _anonymous_event)
