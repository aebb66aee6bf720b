"""Signing in with a username and password, and signing out.

Every attempt is appended to the audit stream (no address, no password; an unknown username
only as its sha256). A wrong password and an unknown username get the same answer after the
same work (the password check verifies against a dummy hash). Too many failures and attempts
are refused unchecked for a while (services.gateway.throttle)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from schemas.accounts import Account, SignInOutcome
from services.gateway import csrf
from services.gateway.console import Console, console_of, console_router
from services.gateway.pages import page
from services.gateway.refusals import safe_next
from services.gateway.sessions import COOKIE, delete_cookie, set_cookie
from services.gateway.signed_in import current_session, signed_in_form, signin_form
from services.gateway.signin_audit import record_attempt

router = console_router()

WRONG = "The username or password is not right."
DISABLED = "This account is disabled. Ask an administrator to enable it."
# The sign-in form's token cookie lasts as long as someone may take to fill the form in.
SIGNIN_COOKIE_SECONDS = 60 * 60


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def signin_page(
    request: Request,
    *,
    next_url: str = "/",
    username: str = "",
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    console = console_of(request)
    cookie, token = csrf.new_signin_token(console.keys.cookies)
    context = {
        "csrf_token": token,
        "next": safe_next(next_url),
        "username": username,
        "error": error,
        "notice": notice,
        "oidc_name": oidc_name(console) if console.oidc is not None else None,
    }
    response = page(request, "signin.html", context, status=status, headers=headers)
    set_cookie(response, csrf.SIGNIN_COOKIE, cookie, SIGNIN_COOKIE_SECONDS)
    return response


def oidc_name(console: Console) -> str:
    return console.setup.settings.oidc_name or console.rt.roster.agency


@router.get("/signin")
async def show_signin(request: Request, next: str = "/", signed_out: bool = False) -> Response:
    if await current_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    notice = "You have signed out." if signed_out else None
    return signin_page(request, next_url=next, notice=notice)


@router.post("/signin", dependencies=[Depends(signin_form)])
async def sign_in(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    console = console_of(request)
    username = username.strip()
    client = _client(request)
    wait = await console.throttle.retry_after(username, client)
    if wait is not None:
        account = await console.accounts.get(username)  # no password is checked
        await record_attempt(console, username, account, SignInOutcome.THROTTLED)
        minutes = max(1, round(wait / 60))
        message = f"Too many attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        headers = {"retry-after": str(wait)}
        return signin_page(request, next_url=next, error=message, status=429, headers=headers)
    outcome, account = await console.accounts.check_password(username, password)
    await record_attempt(console, username, account, outcome)
    if outcome is SignInOutcome.OK and account is not None:
        await console.throttle.succeeded(username, client)
        return await start_session(request, console, account, next)
    if outcome is SignInOutcome.DISABLED:
        return signin_page(request, next_url=next, username=username, error=DISABLED, status=403)
    await console.throttle.failed(username, client)
    return signin_page(request, next_url=next, username=username, error=WRONG, status=401)


async def start_session(
    request: Request, console: Console, account: Account, next_url: str
) -> Response:
    """A new session for `account`, whatever session cookie the browser came with (which is
    ended, not kept: a session id is never chosen by the client)."""
    await console.sessions.end(request.cookies.get(COOKIE))
    session = await console.sessions.start(account)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    # No Max-Age: closing the browser forgets it (a shared workstation), and the server ends
    # the session after 12 hours or when idle anyway.
    set_cookie(response, COOKIE, session.sid)
    delete_cookie(response, csrf.SIGNIN_COOKIE)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/signout", dependencies=[Depends(signed_in_form)])
async def sign_out(request: Request) -> Response:
    await console_of(request).sessions.end(request.cookies.get(COOKIE))
    response = RedirectResponse("/signin?signed_out=true", status_code=303)
    delete_cookie(response, COOKIE)
    response.headers["cache-control"] = "no-store"
    return response
