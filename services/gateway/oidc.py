"""Signing in with the agency's OpenID Connect provider (authlib's Starlette client).

`/signin/oidc` sends the browser to the provider (the authorization code flow with state and a
nonce, kept for ten minutes in the signed cookie `__Host-pw_oidc`); the provider sends it back
to `/signin/oidc/callback`, which checks the ID token and starts a session for the account the
identity is (services.gateway.oidc_accounts), or says plainly that it is none.

The sign-in page links here rather than posting a form: the Content-Security-Policy's
`form-action 'self'` also governs where a form's redirects may lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from schemas.accounts import SignInOutcome
from services.core.account_errors import AccountError
from services.gateway.console import Console, console_of, console_router
from services.gateway.console_settings import ConsoleSettings
from services.gateway.oidc_accounts import Identity, account_for, identity_of
from services.gateway.refusals import ConsoleRefusal, safe_next
from services.gateway.signin import oidc_name, start_session
from services.gateway.signin_audit import record_attempt

STATE_COOKIE = "__Host-pw_oidc"
STATE_SECONDS = 10 * 60
CALLBACK = "signin/oidc/callback"

router = console_router()


def agency_client(settings: ConsoleSettings) -> Any:
    assert settings.oidc_issuer is not None and settings.oidc_client_secret is not None
    issuer = str(settings.oidc_issuer).rstrip("/")
    return OAuth().register(
        "agency",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"},
    )


def install(app: FastAPI, console: Console) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=console.keys.oidc_state.hex(),
        session_cookie=STATE_COOKIE,
        max_age=STATE_SECONDS,
        path="/",
        same_site="lax",
        https_only=True,
    )
    app.include_router(router)


def _callback_url(console: Console, request: Request) -> str:
    public = console.rt.settings.public_url
    if public is not None:
        return str(public).rstrip("/") + "/" + CALLBACK
    return str(request.url_for("oidc_callback"))


def _unfinished(console: Console, why: str) -> ConsoleRefusal:
    name = oidc_name(console)
    return ConsoleRefusal(400, f"Signing in with {name} did not finish ({why}). Try again.")


@router.get("/signin/oidc")
async def oidc_start(request: Request, next: str = "/") -> Response:
    console = console_of(request)
    request.session.clear()
    request.session["next"] = safe_next(next)
    try:
        response: Response = await console.oidc.authorize_redirect(
            request, _callback_url(console, request)
        )
    except (OAuthError, httpx2.HTTPError, ValueError) as exc:
        raise _unfinished(console, "the provider could not be reached") from exc
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/signin/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    console = console_of(request)
    next_url = str(request.session.get("next", "/"))
    claims = await _claims(console, request)
    request.session.clear()
    identity = identity_of(claims)
    if identity is None:
        raise _unfinished(console, "the provider named nobody")
    try:
        account = await account_for(console, identity)
    except AccountError as exc:
        raise ConsoleRefusal(403, str(exc)) from exc
    if account is None:
        await record_attempt(console, identity.text, None, SignInOutcome.UNKNOWN)
        raise ConsoleRefusal(403, _nobody(console, identity))
    if account.disabled:
        await record_attempt(console, identity.text, account, SignInOutcome.DISABLED)
        raise ConsoleRefusal(403, "This account is disabled. Ask an administrator to enable it.")
    await record_attempt(console, identity.text, account, SignInOutcome.OK)
    return await start_session(request, console, account, next_url)


async def _claims(console: Console, request: Request) -> Mapping[str, object]:
    try:
        token = await console.oidc.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if "email" not in claims:  # some providers keep it out of the ID token
            extra = await console.oidc.userinfo(token=token)
            if extra.get("sub") == claims.get("sub"):
                claims = {**dict(extra), **claims}
    except OAuthError as exc:
        raise _unfinished(console, exc.error or "refused") from exc
    except (httpx2.HTTPError, ValueError) as exc:
        raise _unfinished(console, "the provider could not be reached") from exc
    return claims


def _nobody(console: Console, identity: Identity) -> str:
    name = oidc_name(console)
    return (
        f"You signed in with {name}, but no Pathways account goes with that identity. "
        "Ask an administrator to give you an account (or to add your verified email address "
        "to the roster), then sign in again."
    )
