"""/api/v1/tasks: list and read tasks; acknowledge, start, complete, decline, assign, claim and
add notes. Restricted text sent here is sealed for the author's team before it leaves the
gateway; what comes back is opened for readers of that team, and a marker for anyone else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from schemas import subjects
from schemas.api import AssignBody, CompleteBody, DeclineBody, NoteBody, Outcome
from schemas.base import PersonId
from schemas.commands import TaskVerb
from schemas.enums import TaskStatus
from schemas.principals import Principal
from schemas.replies import Page
from schemas.tasks import TaskSnapshot
from services.gateway.api.common import (
    COMMAND_PROBLEMS,
    DEFAULT_LIMIT,
    PAGE_HEADERS,
    QUERY_PROBLEMS,
    Cursor,
    IdempotencyKey,
    IncidentPath,
    Limit,
    TaskPath,
    ask,
    link_next,
    send,
)
from services.gateway.edge import Authenticated

router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get(
    "",
    summary="Tasks: newest incident first, by deadline within an incident",
    description="Responders see their own tasks and the unassigned tasks of their roles.",
    responses={200: {"headers": PAGE_HEADERS}, **QUERY_PROBLEMS},
)
async def list_tasks(
    request: Request,
    response: Response,
    principal: Authenticated,
    incident: Annotated[IncidentPath | None, Query(description="Only this incident's")] = None,
    assignee: Annotated[PersonId | None, Query(description="Only this person's")] = None,
    status: TaskStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[TaskSnapshot]:
    fields = {
        "incident_id": incident,
        "assignee": assignee,
        "status": status,
        "limit": limit,
        "cursor": cursor,
    }
    page: Page[TaskSnapshot] = await ask(request, principal, subjects.QRY_TASK_LIST, fields)
    link_next(request, response, page)
    return page


@router.get("/{task_id}", summary="One task as it stands", responses=QUERY_PROBLEMS)
async def get_task(request: Request, principal: Authenticated, task_id: TaskPath) -> TaskSnapshot:
    found: TaskSnapshot = await ask(request, principal, subjects.QRY_TASK_GET, {"task_id": task_id})
    return found


async def _act(
    request: Request,
    principal: Principal,
    verb: TaskVerb,
    task_id: str,
    key: str | None,
    **text: Any,
) -> Outcome[TaskSnapshot]:
    fields = {"verb": verb, "task_id": task_id, **text}
    return await send(request, principal, subjects.CMD_TASK_ACT, key, fields)


@router.post(
    "/{task_id}/acknowledge",
    summary="Acknowledge a task assigned to you",
    responses=COMMAND_PROBLEMS,
)
async def acknowledge(
    request: Request, principal: Authenticated, task_id: TaskPath, key: IdempotencyKey = None
) -> Outcome[TaskSnapshot]:
    return await _act(request, principal, TaskVerb.ACKNOWLEDGE, task_id, key)


@router.post(
    "/{task_id}/start", summary="Start work on a task assigned to you", responses=COMMAND_PROBLEMS
)
async def start(
    request: Request, principal: Authenticated, task_id: TaskPath, key: IdempotencyKey = None
) -> Outcome[TaskSnapshot]:
    return await _act(request, principal, TaskVerb.START, task_id, key)


@router.post(
    "/{task_id}/complete",
    summary="Complete a task assigned to you",
    description="The note is kept at the task's tier (sealed for your team on a restricted task).",
    responses=COMMAND_PROBLEMS,
)
async def complete(
    request: Request,
    principal: Authenticated,
    task_id: TaskPath,
    body: CompleteBody | None = None,
    key: IdempotencyKey = None,
) -> Outcome[TaskSnapshot]:
    note = body.note if body is not None else None
    return await _act(request, principal, TaskVerb.COMPLETE, task_id, key, note=note)


@router.post(
    "/{task_id}/decline",
    summary="Decline a task assigned to you",
    description="It goes to the next person in the role; `notice` says what happens next.",
    responses=COMMAND_PROBLEMS,
)
async def decline(
    request: Request,
    principal: Authenticated,
    task_id: TaskPath,
    body: DeclineBody,
    key: IdempotencyKey = None,
) -> Outcome[TaskSnapshot]:
    return await _act(request, principal, TaskVerb.DECLINE, task_id, key, reason=body.reason)


@router.post(
    "/{task_id}/assign",
    summary="Give a task to an eligible person",
    description="Command staff only; the new assignee's clock starts now.",
    responses=COMMAND_PROBLEMS,
)
async def assign(
    request: Request,
    principal: Authenticated,
    task_id: TaskPath,
    body: AssignBody,
    key: IdempotencyKey = None,
) -> Outcome[TaskSnapshot]:
    fields = {"task_id": task_id, "to": body.to}
    return await send(request, principal, subjects.CMD_TASK_ASSIGN, key, fields)


@router.post(
    "/{task_id}/claim",
    summary="Take a task nobody holds, as a holder of its role",
    responses=COMMAND_PROBLEMS,
)
async def claim(
    request: Request, principal: Authenticated, task_id: TaskPath, key: IdempotencyKey = None
) -> Outcome[TaskSnapshot]:
    return await send(request, principal, subjects.CMD_TASK_CLAIM, key, {"task_id": task_id})


@router.post(
    "/{task_id}/notes",
    summary="Add a note to a task",
    description="A restricted note is sealed for your team: only its members read it.",
    responses=COMMAND_PROBLEMS,
)
async def note(
    request: Request,
    principal: Authenticated,
    task_id: TaskPath,
    body: NoteBody,
    key: IdempotencyKey = None,
) -> Outcome[TaskSnapshot]:
    fields = {"task_id": task_id, "text": body.text, "tier": body.tier}
    return await send(request, principal, subjects.CMD_TASK_NOTE, key, fields)
