"""Who is signed in to the console: FastAPI dependencies for its pages and forms.

- `signed_in` gives a page the `Principal`, or sends the browser to sign in and back.
- `signed_in_form` does the same for a form, and checks its synchronizer token first.
- `signin_form` checks the sign-in form's double-submit token (nobody is signed in yet).

Each sets `request.state.viewer` for the layout (who is signed in, and the sign-out form's
token). A session whose account has since been disabled or removed counts as none.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from schemas.accounts import Account
from schemas.principals import Principal
from services.gateway import csrf
from services.gateway.console import Console, console_of
from services.gateway.refusals import ConsoleRefusal, SignInRequired
from services.gateway.sessions import COOKIE, Session

FORGED = "This form has expired or did not come from this page. Go back, reload, and try again."


@dataclass(frozen=True)
class Viewer:
    account: str
    name: str  # the roster member's name, else the account
    csrf_token: str


async def current_session(request: Request) -> tuple[Session, Account] | None:
    console = console_of(request)
    session = await console.sessions.find(request.cookies.get(COOKIE))
    if session is None:
        return None
    account = await console.accounts.get(session.record.account)
    if account is None or account.disabled:
        await console.sessions.end(session.sid)
        return None
    request.state.viewer = _viewer(console, session, account)
    return session, account


def _viewer(console: Console, session: Session, account: Account) -> Viewer:
    member = console.rt.roster.member(account.person) if account.person else None
    return Viewer(
        account=account.id,
        name=member.name if member is not None else account.id,
        csrf_token=csrf.session_token(console.keys.csrf, session.sid),
    )


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def signed_in(request: Request) -> Principal:
    found = await current_session(request)
    if found is None:
        raise SignInRequired(_here(request))
    session, account = found
    return session.principal(account)


async def form_token(request: Request) -> str | None:
    form = await request.form()
    value = form.get(csrf.FIELD)
    return value if isinstance(value, str) else None


async def signed_in_form(request: Request) -> Principal:
    found = await current_session(request)
    if found is None:
        raise SignInRequired("/")  # nothing is done; after signing in, they start again
    session, account = found
    key = console_of(request).keys.csrf
    if not csrf.session_token_ok(key, session.sid, await form_token(request)):
        raise ConsoleRefusal(403, FORGED)
    return session.principal(account)


async def signin_form(request: Request) -> None:
    key = console_of(request).keys.cookies
    cookie = request.cookies.get(csrf.SIGNIN_COOKIE)
    if not csrf.signin_token_ok(key, cookie, await form_token(request)):
        raise ConsoleRefusal(403, FORGED)
