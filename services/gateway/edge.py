"""The one way from HTTP into the services, for every API route (and the console's pages).

In order: who is asking (an API token; the console adds its sessions), restricted text sealed for
its author's team before anything leaves the gateway, the request signed for that principal and
sent over NATS, a refusal turned into a problem, the reply checked against the operation's model
(schemas/catalog.py), and sealed text opened. The services decide who may do and see what
(services.core.access): the gateway never second-guesses them, and it opens only what their
reply, already cut for this reader, still holds sealed.
"""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nats.js.kv import KeyValue
from pydantic import BaseModel, TypeAdapter

from schemas import subjects
from schemas.catalog import BY_SUBJECT, Operation
from schemas.commands import ActOnTask, Command, ErrorCode, GetTask, NoteTask
from schemas.enums import Tier
from schemas.principals import Principal, Via
from schemas.replies import Page
from schemas.tasks import TaskSnapshot
from schemas.views import Timeline
from services.core.access import Action, Target, decide, reader_of
from services.core.accounts import AccountStore, principal_for
from services.core.assertions import KeyFileProblem, Signer, read_signer
from services.core.confidential import CannotSeal, has_restricted_text, open_view, seal_command
from services.core.logging import get_logger
from services.core.migrate import StreamsNotSetUp
from services.core.passwords import Passwords
from services.core.rpc import Caller, RequestTooLarge, ServiceUnavailable, call
from services.core.runtime import Runtime
from services.core.sealing import Keyring, KeyringError
from services.gateway.context import context_of
from services.gateway.problems import ProblemException, problem, problem_for

log = get_logger(__name__)

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiToken",
    description="An API token, `pwt_…`: `pathways login`, `pathways token create`, or "
    "POST /api/v1/me/tokens",
)


@dataclass(frozen=True)
class Answered:
    data: Any
    changed: bool
    notice: str | None


@dataclass
class Edge:
    rt: Runtime
    signer: Signer
    keyring: Keyring
    accounts: AccountStore
    idempotency: KeyValue

    @classmethod
    async def open(cls, rt: Runtime) -> Edge:
        settings = rt.settings
        directory = settings.key_directory
        return cls(
            rt=rt,
            signer=read_signer(settings.signing_key_path),
            # Where the keys are the installation's own (embedded), a team's key is made when
            # its first restricted text is sealed; mounted read-only keys are never added to.
            keyring=Keyring(directory, create_missing=_writable(directory)),
            accounts=await AccountStore.open(
                rt.nc, Passwords(settings.password_profile), settings.nats_url
            ),
            idempotency=await rt.js.key_value(subjects.IDEMPOTENCY_BUCKET),
        )

    async def dispatch(self, principal: Principal, op: Operation, request: BaseModel) -> Answered:
        """Send `request` as `principal` and give back what the reader may read, opened."""
        if isinstance(request, Command):
            request = await self._sealed(principal, request)
        try:
            reply = await call(
                self.rt.nc,
                op.subject,
                request,
                Caller(self.signer, principal),
                timeout=self.rt.settings.request_timeout,
            )
        except ServiceUnavailable as exc:
            raise ProblemException(problem(503, str(exc), ErrorCode.UNAVAILABLE)) from None
        except RequestTooLarge as exc:
            raise ProblemException(problem(413, str(exc), ErrorCode.INVALID_REQUEST)) from None
        if reply.error is not None:
            raise ProblemException(problem_for(reply.error))
        data = _adapter(op.subject).validate_python(reply.data)
        return Answered(opened(self.keyring, data), reply.changed, reply.notice)

    async def _sealed(self, principal: Principal, command: Command) -> Command:
        tier = await self._tier(principal, command) if isinstance(command, ActOnTask) else None
        if not has_restricted_text(command, tier):
            return command
        try:
            return seal_command(self.keyring, self.rt.roster, command, task_tier=tier)
        except KeyringError as exc:
            log.error("sealing_unavailable", error=str(exc))
            raise ProblemException(
                problem(503, "restricted text cannot be sealed now", ErrorCode.UNAVAILABLE)
            ) from None
        except (CannotSeal, ValueError) as exc:
            await self._refuse_if_not_allowed(principal, command)
            raise ProblemException(problem(422, str(exc), ErrorCode.INVALID_REQUEST)) from None

    async def _refuse_if_not_allowed(self, principal: Principal, command: Command) -> None:
        """Text that cannot be sealed for this principal (who has no team, say): when the
        policy refuses them the action anyway, that is the answer (403), not the sealing."""
        if isinstance(command, ActOnTask):
            action, tier = Action.ACT_ON_TASK, None
        elif isinstance(command, NoteTask):
            action, tier = Action.NOTE_TASK, command.tier
        else:
            return
        read = BY_SUBJECT[subjects.QRY_TASK_GET]
        found = await self.dispatch(principal, read, GetTask(task_id=command.task_id))
        assert isinstance(found.data, TaskSnapshot)
        reader = reader_of(principal, self.rt.roster)
        decision = decide(reader, action, Target(task=found.data, tier=tier))
        if not decision.allowed:
            raise ProblemException(problem(403, decision.reason, ErrorCode.FORBIDDEN))

    async def _tier(self, principal: Principal, command: ActOnTask) -> Tier | None:
        """A completion note or decline reason is as restricted as its task: read it first."""
        if not (command.note or command.reason):
            return None
        read = BY_SUBJECT[subjects.QRY_TASK_GET]
        found = await self.dispatch(principal, read, GetTask(task_id=command.task_id))
        assert isinstance(found.data, TaskSnapshot)
        return found.data.tier


def _writable(directory: Path) -> bool:
    existing = directory if directory.exists() else directory.parent
    return os.access(existing, os.W_OK)


@functools.cache
@functools.cache
def _adapter(subject: str) -> TypeAdapter[Any]:
    # Building an adapter costs far more than validating with it: one per subject.
    return TypeAdapter(BY_SUBJECT[subject].data)


def opened(keyring: Keyring, data: Any) -> Any:
    """`data` with every sealed text in it opened (tasks, pages of tasks, timelines)."""
    if isinstance(data, TaskSnapshot):
        return open_view(keyring, data)
    if isinstance(data, Timeline):
        return open_view(keyring, data)
    if isinstance(data, Page) and any(isinstance(item, TaskSnapshot) for item in data.items):
        return data.model_copy(update={"items": [opened(keyring, item) for item in data.items]})
    return data


# ---- one Edge per application, opened on first use ---------------------------------------------


async def edge_of(request: Request) -> Edge:
    """The application's Edge, opened the first time a route needs it (the gateway starts once
    the runtime is attached, so the buckets are there by then)."""
    state = request.app.state
    edge: Edge | None = getattr(state, "edge", None)
    if edge is not None:
        return edge
    lock: asyncio.Lock = getattr(state, "edge_lock", None) or asyncio.Lock()
    state.edge_lock = lock
    async with lock:
        if getattr(state, "edge", None) is None:
            state.edge = await _open(context_of(request).rt)
    opened_edge: Edge = state.edge
    return opened_edge


async def _open(rt: Runtime) -> Edge:
    try:
        return await Edge.open(rt)
    except (KeyFileProblem, StreamsNotSetUp) as exc:
        log.error("api_unavailable", error=str(exc))
        raise ProblemException(
            problem(503, "the API cannot serve requests yet; see the gateway's log")
        ) from None


def unauthenticated(detail: str) -> ProblemException:
    return ProblemException(
        problem(401, detail, ErrorCode.UNAUTHENTICATED), headers=BEARER_CHALLENGE
    )


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The principal of the request's API token. No cookies: a browser sends nothing here on
    its own, so the API needs no CSRF defence."""
    if credentials is None:
        raise unauthenticated("send an API token: Authorization: Bearer pwt_…")
    edge = await edge_of(request)
    account = await edge.accounts.verify_token(credentials.credentials)
    if account is None:
        raise unauthenticated(
            "this API token is not valid: unknown, revoked, or its account disabled"
        )
    return principal_for(account, Via.TOKEN)


Authenticated = Annotated[Principal, Depends(authenticate)]
