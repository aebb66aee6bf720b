"""/api/v1/incidents: log, list, read, close; trigger and cancel a playbook; the timeline and
the after-action report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from schemas import subjects
from schemas.api import LogIncidentBody, Outcome, ReasonBody, TriggerPlaybookBody
from schemas.base import PersonId, RoleId, Slug
from schemas.commands import EventType
from schemas.replies import (
    IncidentClosedResult,
    LogIncidentResult,
    Page,
    PlaybookCancelledResult,
    PlaybookStarted,
)
from schemas.report import Audience, ReviewReport
from schemas.views import IncidentListItem, IncidentSummary, Timeline
from services.gateway.api.common import (
    COMMAND_PROBLEMS,
    DEFAULT_LIMIT,
    PAGE_HEADERS,
    QUERY_PROBLEMS,
    Cursor,
    IdempotencyKey,
    IncidentPath,
    Limit,
    ask,
    link_next,
    send,
)
from services.gateway.edge import Authenticated

router = APIRouter(prefix="/incidents", tags=["incidents"])

LOCATION = {"Location": {"description": "The incident's address", "schema": {"type": "string"}}}


@router.post(
    "",
    status_code=201,
    summary="Log an incident",
    description="A matching automatic playbook starts on its own. 201 with the incident's "
    "Location when it is logged; 200 with `changed: false` when the same Idempotency-Key "
    "logged it already. Command staff only.",
    responses={
        201: {"description": "Logged", "headers": LOCATION},
        200: {"description": "Logged already by this Idempotency-Key", "headers": LOCATION},
        **COMMAND_PROBLEMS,
    },
)
async def log_incident(
    request: Request,
    response: Response,
    principal: Authenticated,
    body: LogIncidentBody,
    key: IdempotencyKey = None,
) -> Outcome[LogIncidentResult]:
    done = await send(request, principal, subjects.CMD_INCIDENT_LOG, key, body.model_dump())
    assert isinstance(done.data, LogIncidentResult)
    response.headers["Location"] = f"{request.url.path}/{done.data.incident.incident_id}"
    if not done.changed:
        response.status_code = 200
    return done


@router.get(
    "",
    summary="Incidents, newest first",
    description="Command staff and reviewers only.",
    responses={200: {"headers": PAGE_HEADERS}, **QUERY_PROBLEMS},
)
async def list_incidents(
    request: Request,
    response: Response,
    principal: Authenticated,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[IncidentListItem]:
    fields = {"limit": limit, "cursor": cursor}
    page: Page[IncidentListItem] = await ask(request, principal, subjects.QRY_INCIDENT_LIST, fields)
    link_next(request, response, page)
    return page


@router.get("/{incident_id}", summary="One incident", responses=QUERY_PROBLEMS)
async def get_incident(
    request: Request, principal: Authenticated, incident_id: IncidentPath
) -> IncidentSummary:
    found: IncidentSummary = await ask(
        request, principal, subjects.QRY_INCIDENT_GET, {"incident_id": incident_id}
    )
    return found


@router.get(
    "/{incident_id}/timeline",
    summary="The incident's events in order",
    description="Notes a reader may not read show a marker in their place.",
    responses=QUERY_PROBLEMS,
)
async def get_timeline(
    request: Request,
    principal: Authenticated,
    incident_id: IncidentPath,
    role: Annotated[list[RoleId], Query(description="Only tasks of these roles")] = [],  # noqa: B006
    phase: Annotated[list[Slug], Query(description="Only tasks of these phases")] = [],  # noqa: B006
    person: Annotated[
        list[PersonId], Query(description="Only entries these people acted in, held or wrote")
    ] = [],  # noqa: B006
    type: Annotated[
        list[EventType], Query(description="Only these event types, e.g. task.completed")
    ] = [],  # noqa: B006
) -> Timeline:
    fields = {
        "incident_id": incident_id,
        "roles": role,
        "phases": phase,
        "people": person,
        "types": type,
    }
    found: Timeline = await ask(request, principal, subjects.QRY_TIMELINE, fields)
    return found


@router.get(
    "/{incident_id}/report",
    summary="The incident's after-action report for one audience",
    description="Metrics, the tasks and the timeline entries the audience may see: public "
    "(whoever reads the timeline), command (command staff, reviewers, administrators) or full "
    "(reviewers, administrators). Restricted text is in no audience's report.",
    responses=QUERY_PROBLEMS,
)
async def get_report(
    request: Request,
    principal: Authenticated,
    incident_id: IncidentPath,
    audience: Annotated[Audience, Query(description="public, command or full")] = Audience.PUBLIC,
) -> ReviewReport:
    fields = {"incident_id": incident_id, "audience": audience}
    found: ReviewReport = await ask(request, principal, subjects.QRY_REVIEW_REPORT, fields)
    return found


@router.post(
    "/{incident_id}/close",
    summary="End the response",
    description="Open tasks are cancelled and nothing pending fires later. Command staff only.",
    responses=COMMAND_PROBLEMS,
)
async def close_incident(
    request: Request,
    principal: Authenticated,
    incident_id: IncidentPath,
    body: ReasonBody,
    key: IdempotencyKey = None,
) -> Outcome[IncidentClosedResult]:
    fields = {"incident_id": incident_id, **body.model_dump()}
    return await send(request, principal, subjects.CMD_INCIDENT_CLOSE, key, fields)


@router.post(
    "/{incident_id}/playbook",
    summary="Start a playbook run",
    description="Command staff only; one run at a time.",
    responses=COMMAND_PROBLEMS,
)
async def trigger_playbook(
    request: Request,
    principal: Authenticated,
    incident_id: IncidentPath,
    body: TriggerPlaybookBody,
    key: IdempotencyKey = None,
) -> Outcome[PlaybookStarted]:
    fields = {"incident_id": incident_id, **body.model_dump()}
    return await send(request, principal, subjects.CMD_PLAYBOOK_TRIGGER, key, fields)


@router.post(
    "/{incident_id}/playbook/cancel",
    summary="Undo a playbook run triggered by mistake",
    description="Its open tasks are cancelled; another playbook may then be triggered.",
    responses=COMMAND_PROBLEMS,
)
async def cancel_playbook(
    request: Request,
    principal: Authenticated,
    incident_id: IncidentPath,
    body: Annotated[ReasonBody, Body()],
    key: IdempotencyKey = None,
) -> Outcome[PlaybookCancelledResult]:
    fields = {"incident_id": incident_id, **body.model_dump()}
    return await send(request, principal, subjects.CMD_PLAYBOOK_CANCEL, key, fields)
