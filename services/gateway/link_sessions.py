"""Link sessions: what a partner's browser holds after opening an action link.

`GET /t/{token}` checks the link (services.core.links) and sets the cookie `__Host-pw_link`
(Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, like the console's session): the link's
claim and a random nonce, signed with a key of the console's own and good for an hour. The
token leaves the address bar, and the session opens the one task the link was for, as its
person, with nothing else: no navigation, no other page. Every page and form of it checks again
that the task is still theirs in that assignment (services.gateway.links).

A form of a link session carries `HMAC(csrf key, "link." + nonce)`, which only a page of that
session can know (services.gateway.csrf's synchronizer token)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from schemas.principals import Principal, Via
from services.core.links import LinkClaim
from services.gateway import csrf
from services.gateway.console_keys import ConsoleKeys
from services.gateway.sessions import delete_cookie, set_cookie

COOKIE = "__Host-pw_link"
LIFETIME = timedelta(hours=1)
SALT = "pw-link-session"


@dataclass(frozen=True)
class LinkSession:
    claim: LinkClaim
    nonce: str

    @property
    def principal(self) -> Principal:
        """The person the link was sent to, for its one task and nothing else."""
        claim = self.claim
        return Principal(account=claim.person, person=claim.person, via=Via.LINK,
                         task=claim.task_id)  # fmt: skip

    def csrf_token(self, keys: ConsoleKeys) -> str:
        return csrf.session_token(keys.csrf, f"link.{self.nonce}")

    def csrf_ok(self, keys: ConsoleKeys, presented: str | None) -> bool:
        return csrf.session_token_ok(keys.csrf, f"link.{self.nonce}", presented)


def _serializer(keys: ConsoleKeys) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(keys.link_sessions, salt=SALT)


def start(response: Response, keys: ConsoleKeys, claim: LinkClaim) -> LinkSession:
    """A new link session (a new nonce every time a link is opened), in the response's cookie."""
    session = LinkSession(claim, secrets.token_urlsafe(16))
    payload = {"t": claim.task_id, "p": claim.person, "a": claim.assignment, "n": session.nonce}
    value: str = _serializer(keys).dumps(payload)
    set_cookie(response, COOKIE, value, max_age=int(LIFETIME.total_seconds()))
    return session


def end(response: Response) -> None:
    delete_cookie(response, COOKIE)


def current(request: Request, keys: ConsoleKeys) -> LinkSession | None:
    """The browser's link session; None without one, or with one altered or older than an
    hour."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        payload = _serializer(keys).loads(value, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:
        return None
    return _session_of(payload)


def _session_of(payload: Any) -> LinkSession | None:
    if not isinstance(payload, dict):
        return None
    task_id, person = payload.get("t"), payload.get("p")
    assignment, nonce = payload.get("a"), payload.get("n")
    if not (isinstance(task_id, str) and isinstance(person, str) and isinstance(nonce, str)):
        return None
    if not isinstance(assignment, int):
        return None
    return LinkSession(LinkClaim(task_id, person, assignment), nonce)
