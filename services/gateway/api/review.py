"""/api/v1/incidents/{incident_id}/findings and /actions: the improvement plan of an incident's
after-action review, for command staff and reviewers."""

from __future__ import annotations

from fastapi import APIRouter, Request

from schemas import subjects
from schemas.api import CorrectiveActionBody, FindingBody, Outcome
from schemas.improvement import CorrectiveAction, Finding
from schemas.tasks import TaskSnapshot
from services.gateway.api.common import (
    COMMAND_PROBLEMS,
    QUERY_PROBLEMS,
    IdempotencyKey,
    IncidentPath,
    ask,
    send,
)
from services.gateway.edge import Authenticated

router = APIRouter(prefix="/incidents", tags=["review"])


@router.post(
    "/{incident_id}/findings",
    summary="Record a finding of the review",
    description="A strength or an area for improvement, about a role family or a phase (not "
    "both), one line of plain text. Command staff and reviewers only; open or closed incidents.",
    responses=COMMAND_PROBLEMS,
)
async def add_finding(
    request: Request,
    principal: Authenticated,
    incident_id: IncidentPath,
    body: FindingBody,
    key: IdempotencyKey = None,
) -> Outcome[Finding]:
    fields = {"incident_id": incident_id, **body.model_dump()}
    return await send(request, principal, subjects.CMD_REVIEW_FINDING, key, fields)


@router.get(
    "/{incident_id}/findings",
    summary="The review's findings, in the order they were recorded",
    description="Command staff and reviewers only.",
    responses=QUERY_PROBLEMS,
)
async def list_findings(
    request: Request, principal: Authenticated, incident_id: IncidentPath
) -> list[Finding]:
    found: list[Finding] = await ask(
        request, principal, subjects.QRY_REVIEW_FINDINGS, {"incident_id": incident_id}
    )
    return found


@router.post(
    "/{incident_id}/actions",
    summary="Give a corrective action to its owner",
    description="A task like any other (phase `improvement-plan`), assigned to `owner` and due "
    "by `due_by` or by the end of `due_on` (one of them, not past). Command staff and "
    "reviewers only; open or closed incidents.",
    responses=COMMAND_PROBLEMS,
)
async def add_action(
    request: Request,
    principal: Authenticated,
    incident_id: IncidentPath,
    body: CorrectiveActionBody,
    key: IdempotencyKey = None,
) -> Outcome[TaskSnapshot]:
    fields = {"incident_id": incident_id, **body.model_dump()}
    return await send(request, principal, subjects.CMD_REVIEW_ACTION, key, fields)


@router.get(
    "/{incident_id}/actions",
    summary="The corrective actions, each as it stands",
    description="Command staff and reviewers only.",
    responses=QUERY_PROBLEMS,
)
async def list_actions(
    request: Request, principal: Authenticated, incident_id: IncidentPath
) -> list[CorrectiveAction]:
    found: list[CorrectiveAction] = await ask(
        request, principal, subjects.QRY_REVIEW_ACTIONS, {"incident_id": incident_id}
    )
    return found
