"""How a console page reaches the services: the same dispatch path as the API
(services.gateway.api.common), as the signed-in principal, with refusals turned into what a
page shows rather than problem documents.

- `read` answers a query, or raises ConsoleRefusal (a page saying why) when it cannot.
- `perform` sends a command and gives back `Done` or `Failed`, so a form can be shown again
  with what went wrong. Each form carries a key made when it was rendered (`form_key`): sending
  it twice (a double click, a reload of the POST) applies it once, as the API's Idempotency-Key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from schemas.api import Outcome, Problem
from schemas.principals import Principal
from services.gateway.api.common import ask, send
from services.gateway.problems import ProblemException
from services.gateway.refusals import ConsoleRefusal

FORM_KEY_FIELD = "form_key"
# What a refused page answers with as it is; anything else is a plain 400.
PAGE_STATUSES = frozenset({400, 403, 404, 409, 410, 422, 429, 503})


@dataclass(frozen=True)
class Done:
    outcome: Outcome[Any]


@dataclass(frozen=True)
class Failed:
    problem: Problem

    @property
    def message(self) -> str:
        """One sentence for the page: the detail, and each field at fault."""
        text = self.problem.detail or self.problem.title
        fields = [f"{error.field}: {error.message}" for error in self.problem.errors or []]
        return "; ".join([text, *fields]) if fields else text


def form_key() -> str:
    """A fresh key for one rendering of a form."""
    return uuid.uuid4().hex


def _refusal(exc: ProblemException) -> ConsoleRefusal:
    found = exc.problem
    status = found.status if found.status in PAGE_STATUSES else 400
    return ConsoleRefusal(status, found.detail or found.title, exc.headers)


async def read(request: Request, principal: Principal, subject: str, fields: dict[str, Any]) -> Any:
    """The answer to a query as `principal` may read it; a refusal page otherwise."""
    try:
        return await ask(request, principal, subject, fields)
    except ProblemException as exc:
        raise _refusal(exc) from None


async def perform(
    request: Request,
    principal: Principal,
    subject: str,
    fields: dict[str, Any],
    key: str | None,
) -> Done | Failed:
    """Send a command as `principal`; `key` is the form's own (see `form_key`)."""
    try:
        return Done(await send(request, principal, subject, key or None, fields))
    except ProblemException as exc:
        return Failed(exc.problem)
