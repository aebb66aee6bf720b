"""/api/v1/me: who the token is, their inbox and their API tokens; and /api/v1/session/token,
where a username and password get a new token (what `pathways login` does)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from schemas import subjects
from schemas.accounts import ApiToken, SignInOutcome, SignInRecorded, username_digest
from schemas.api import Me, PasswordTokenRequest, TokenCreated, TokenInfo, TokenRequest
from schemas.base import utc_now
from schemas.notifications import InboxEntry
from schemas.principals import Via
from schemas.replies import Page
from services.core import access
from services.core.audit import record_sign_in
from services.gateway.api.common import (
    DEFAULT_LIMIT,
    PAGE_HEADERS,
    QUERY_PROBLEMS,
    Cursor,
    Limit,
    ask,
    link_next,
)
from services.gateway.console import console_of
from services.gateway.edge import Authenticated, edge_of, unauthenticated
from services.gateway.problems import ProblemException, problem, problem_responses

router = APIRouter(tags=["me"])

TokenPath = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The token's id")]


def _info(token: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=token.id, name=token.name, created_at=token.created_at, revoked_at=token.revoked_at
    )


@router.get("/me", summary="Who this token signs in as", responses=problem_responses(401))
async def me(request: Request, principal: Authenticated) -> Me:
    roster = (await edge_of(request)).rt.roster
    return Me(
        account=principal.account,
        person=principal.person,
        grants=sorted(principal.grants),
        roles=sorted(access.effective_roles(principal, roster)),
    )


@router.get(
    "/me/inbox",
    summary="Your in-app notices, newest first",
    responses={200: {"headers": PAGE_HEADERS}, **QUERY_PROBLEMS},
)
async def inbox(
    request: Request,
    response: Response,
    principal: Authenticated,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[InboxEntry]:
    fields = {"limit": limit, "cursor": cursor}
    page: Page[InboxEntry] = await ask(request, principal, subjects.QRY_INBOX, fields)
    link_next(request, response, page)
    return page


@router.get(
    "/me/tokens",
    summary="Your API tokens, revoked ones too (never their secrets)",
    responses=problem_responses(401),
)
async def list_tokens(request: Request, principal: Authenticated) -> list[TokenInfo]:
    tokens = await (await edge_of(request)).accounts.tokens_of(principal.account)
    return [_info(token) for token in tokens]


@router.post(
    "/me/tokens",
    status_code=201,
    summary="A new API token for your account",
    description="The token is in this answer only: keep it.",
    responses=problem_responses(400, 401, 422),
)
async def create_token(
    request: Request, principal: Authenticated, body: TokenRequest
) -> TokenCreated:
    store = (await edge_of(request)).accounts
    token, secret = await store.issue_token(principal.account, body.name)
    return TokenCreated(**_info(token).model_dump(), token=secret)


@router.delete(
    "/me/tokens/{token_id}",
    summary="Revoke one of your API tokens",
    description="It stops working at once; revoking it again changes nothing.",
    responses=problem_responses(401, 404, 422),
)
async def revoke_token(
    request: Request, principal: Authenticated, token_id: TokenPath
) -> TokenInfo:
    store = (await edge_of(request)).accounts
    token = await store.get_token(token_id)
    if token is None or token.account != principal.account:
        raise ProblemException(problem(404, f"you have no token {token_id}"))
    revoked, _ = await store.revoke_token(token_id)
    return _info(revoked)


@router.post(
    "/session/token",
    status_code=201,
    tags=["session"],
    summary="Sign in with a password for a new API token",
    description="What `pathways login` does. The token is in this answer only. A wrong "
    "username or password, or a disabled account, is one and the same 401.",
    responses=problem_responses(400, 401, 422, 429),
    openapi_extra={"security": []},
)
async def password_token(request: Request, body: PasswordTokenRequest) -> TokenCreated:
    edge = await edge_of(request)
    # The console's throttle: guessing here counts against the same username and client as
    # guessing on the sign-in page, so neither door is a way round the other.
    throttle = console_of(request).throttle
    client = request.client.host if request.client else "unknown"
    wait = await throttle.retry_after(body.username, client)
    if wait is not None:
        known = await edge.accounts.get(body.username) is not None  # no password is checked
        await record_sign_in(edge.rt.js, _attempt(body.username, SignInOutcome.THROTTLED, known))
        raise ProblemException(
            problem(429, "too many sign-in attempts; try again later"),
            headers={"Retry-After": str(wait)},
        )
    outcome, account = await edge.accounts.check_password(body.username, body.password)
    await record_sign_in(edge.rt.js, _attempt(body.username, outcome, account is not None))
    if outcome is not SignInOutcome.OK or account is None:
        if outcome is not SignInOutcome.DISABLED:
            await throttle.failed(body.username, client)
        raise unauthenticated("wrong username or password")
    await throttle.succeeded(body.username, client)
    token, secret = await edge.accounts.issue_token(account.id, body.name)
    return TokenCreated(**_info(token).model_dump(), token=secret)


def _attempt(username: str, outcome: SignInOutcome, known: bool) -> SignInRecorded:
    """The audit record: the account when there is one, else only a hash of what was typed."""
    return SignInRecorded(
        account=username if known else None,
        username_sha256=None if known else username_digest(username),
        outcome=outcome,
        via=Via.TOKEN,
        at=utc_now(),
    )
