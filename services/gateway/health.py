"""`/healthz`: the process answers (always 200). `/readyz`: it can do its work now (200), or a
503 problem naming the readiness checks that fail, so a load balancer sends requests elsewhere."""

from __future__ import annotations

from fastapi import APIRouter, Request

from schemas.api import Health, Readiness
from schemas.commands import ErrorCode
from services.gateway.context import context_of
from services.gateway.problems import ProblemException, problem, problem_responses
from services.gateway.readiness import failing

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process answers")
async def healthz() -> Health:
    return Health()


@router.get("/readyz", summary="Ready to serve requests", responses=problem_responses(503))
async def readyz(request: Request) -> Readiness:
    checks = context_of(request).readiness
    failed = await failing(checks)
    if failed:
        detail = f"not ready: {', '.join(failed)}"
        raise ProblemException(problem(503, detail, ErrorCode.UNAVAILABLE))
    return Readiness(checks=[check.name for check in checks])
