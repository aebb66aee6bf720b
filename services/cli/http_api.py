"""Person commands over the HTTP API, with an API token: each NATS subject maps to its route
through schemas/catalog.py, and the answer comes back as the reply the NATS path would give, so
the commands print the same either way."""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from schemas.api import Me, Problem
from schemas.catalog import BY_SUBJECT
from schemas.commands import Reply
from services.cli.credentials import SignedIn

API = "/api/v1"
_FIELD = re.compile(r"\{(\w+)\}")
# Never sent: the token says who asks, and the request id travels as the Idempotency-Key.
_NOT_SENT = ("actor", "request_id")


class ApiRefusal(Exception):
    """The API refused or could not be reached; the message is one line saying what to do."""


async def call(api: SignedIn, subject: str, payload: BaseModel, timeout: float) -> Reply:
    """`payload` sent to the route of `subject`, answered as a NATS reply would be."""
    operation = BY_SUBJECT[subject]
    fields = payload.model_dump(mode="json", exclude_none=True)
    path = _FIELD.sub(lambda found: str(fields.pop(found.group(1))), operation.http.path)
    headers = {"Idempotency-Key": str(fields["request_id"])} if "request_id" in fields else {}
    for name in _NOT_SENT:
        fields.pop(name, None)
    if operation.kind == "command":
        answer = await _send(api, "POST", path, timeout, json=fields, headers=headers)
        return Reply(
            ok=True,
            changed=answer["changed"],
            data=answer["data"],
            notice=answer.get("notice"),
        )
    params = {operation.http.query.get(name, name): value for name, value in fields.items()}
    return Reply(ok=True, data=await _send(api, "GET", path, timeout, params=params))


async def me(api: SignedIn, timeout: float = 10.0) -> Me:
    return Me.model_validate(await _send(api, "GET", "/me", timeout))


async def password_token(
    url: str, username: str, password: str, name: str, timeout: float = 20.0
) -> str:
    """A new API token for the account, for its password."""
    anonymous = SignedIn(url, "", "")
    body = {"username": username, "password": password, "name": name}
    found = await _send(anonymous, "POST", "/session/token", timeout, json=body)
    token: str = found["token"]
    return token


async def _send(
    api: SignedIn,
    method: str,
    path: str,
    timeout: float,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = dict(headers or {})
    if api.token:
        sent["Authorization"] = f"Bearer {api.token}"
    try:
        async with httpx.AsyncClient(base_url=api.url + API, timeout=timeout) as client:
            answer = await client.request(method, path, json=json, params=params, headers=sent)
    except httpx.InvalidURL:
        raise ApiRefusal(
            f"invalid PATHWAYS_URL {api.url!r}: expected http(s)://HOST:PORT"
        ) from None
    except httpx.HTTPError as exc:
        raise ApiRefusal(
            f"cannot reach Pathways at {api.url} ({type(exc).__name__}; is `pathways up` "
            "running? see PATHWAYS_URL)"
        ) from None
    if answer.is_success:
        return answer.json()
    raise ApiRefusal(_refusal(api, answer))


def _refusal(api: SignedIn, answer: httpx.Response) -> str:
    try:
        detail = Problem.model_validate_json(answer.content).detail
    except ValidationError:
        detail = None
    status = answer.status_code
    if status == 401 and api.token:
        return (
            f"the API token from {api.source} was refused (revoked, or its account disabled): "
            "sign in again with `pathways login`"
        )
    if status == 429:
        wait = answer.headers.get("Retry-After")
        return f"too many attempts; try again in {wait} s" if wait else "too many attempts"
    if status == 403:
        return f"not allowed: {detail}" if detail else "not allowed"
    return detail or f"the API answered {status} {answer.reason_phrase}"
