"""The HTTP API's own contracts (services/gateway): problem details and health answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Contract
from schemas.commands import ErrorCode

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemField(Contract):
    """One invalid part of a request: where (`body.title`, `query.limit`) and what is wrong.
    The value sent is never repeated back."""

    field: str
    message: str


class Problem(Contract):
    """An error, as RFC 9457 problem details (`application/problem+json`). `type` stays
    `about:blank` (the title is then the HTTP status phrase); `code` tells errors of one
    status apart for programs."""

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = None
    code: ErrorCode | None = None
    # For a request that failed validation: every field at fault.
    errors: list[ProblemField] | None = None


class Health(Contract):
    """`/healthz`: the process answers."""

    status: Literal["ok"] = "ok"


class Readiness(Contract):
    """`/readyz` when every readiness check passes (otherwise a 503 Problem naming those that
    failed)."""

    status: Literal["ready"] = "ready"
    checks: list[str]
