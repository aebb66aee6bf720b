"""/api/v1/playbooks and /api/v1/roster: the playbook library, the roster in force, loading
another version of it, and away periods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from schemas import subjects
from schemas.api import AwayBody, BackBody, LoadRosterBody, Outcome
from schemas.availability import AwayPeriod
from schemas.replies import BackRecorded, PlaybookDetail, RosterLoaded, RosterReply
from schemas.views import PlaybookInfo
from services.gateway.api.common import COMMAND_PROBLEMS, QUERY_PROBLEMS, IdempotencyKey, ask, send
from services.gateway.edge import Authenticated

router = APIRouter()

PlaybookPath = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["officer-involved-shooting"])
]
Version = Annotated[
    str | None,
    Query(pattern=r"^[0-9a-f]{12}$", description="A version that ran (default: the current)"),
]


@router.get(
    "/playbooks", tags=["playbooks"], summary="The playbook library", responses=QUERY_PROBLEMS
)
async def list_playbooks(request: Request, principal: Authenticated) -> list[PlaybookInfo]:
    found: list[PlaybookInfo] = await ask(request, principal, subjects.QRY_PLAYBOOK_LIST, {})
    return found


@router.get(
    "/playbooks/{playbook_id}",
    tags=["playbooks"],
    summary="One playbook, the current version or one that ran",
    responses=QUERY_PROBLEMS,
)
async def get_playbook(
    request: Request, principal: Authenticated, playbook_id: PlaybookPath, version: Version = None
) -> PlaybookDetail:
    fields = {"playbook_id": playbook_id, "version": version}
    found: PlaybookDetail = await ask(request, principal, subjects.QRY_PLAYBOOK_GET, fields)
    return found


@router.get(
    "/roster",
    tags=["roster"],
    summary="The roster in force, and the away periods not over yet",
    description="Members' addresses and channels only for administrators.",
    responses=QUERY_PROBLEMS,
)
async def get_roster(request: Request, principal: Authenticated) -> RosterReply:
    found: RosterReply = await ask(request, principal, subjects.QRY_ROSTER_GET, {})
    return found


@router.post(
    "/roster",
    tags=["roster"],
    summary="Put a roster version in force",
    description="Command staff and administrators only.",
    responses=COMMAND_PROBLEMS,
)
async def load_roster(
    request: Request, principal: Authenticated, body: LoadRosterBody, key: IdempotencyKey = None
) -> Outcome[RosterLoaded]:
    return await send(request, principal, subjects.CMD_ROSTER_LOAD, key, body.model_dump())


@router.post(
    "/roster/away",
    tags=["roster"],
    summary="Record a period someone is away",
    description="Yourself, or anyone as command staff: they are offered no task meanwhile.",
    responses=COMMAND_PROBLEMS,
)
async def record_away(
    request: Request, principal: Authenticated, body: AwayBody, key: IdempotencyKey = None
) -> Outcome[AwayPeriod]:
    return await send(request, principal, subjects.CMD_ROSTER_AWAY, key, body.model_dump())


@router.post(
    "/roster/back",
    tags=["roster"],
    summary="End the away period someone is in now",
    responses=COMMAND_PROBLEMS,
)
async def end_away(
    request: Request, principal: Authenticated, body: BackBody, key: IdempotencyKey = None
) -> Outcome[BackRecorded]:
    return await send(request, principal, subjects.CMD_ROSTER_BACK, key, body.model_dump())
