"""Errors as RFC 9457 problem details (`application/problem+json`), for every error the gateway
answers: a service's refusal (an ErrorCode), FastAPI's own validation errors, unknown paths and
methods, and anything unexpected (500, without a traceback to the client)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.api import PROBLEM_MEDIA_TYPE, Problem, ProblemField
from schemas.commands import ErrorCode, ErrorInfo
from services.core.logging import get_logger
from services.gateway.observe import method_label, route_template

log = get_logger(__name__)

# The status each service error code is answered with. Keyed by the codes' values, so that the
# codes the access policy brings (unauthenticated, forbidden) have theirs already; a unit test
# checks every ErrorCode is here.
STATUS_BY_CODE: dict[str, int] = {
    "invalid_request": 422,
    "not_found": 404,
    "not_assignee": 403,
    "forbidden": 403,
    "unauthenticated": 401,
    "invalid_transition": 409,
    "conflict": 409,
    "unavailable": 503,
    "internal": 500,
}
# The code an HTTP error of the gateway's own carries, where one fits.
CODE_BY_STATUS: dict[int, ErrorCode] = {
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
    422: ErrorCode.INVALID_REQUEST,
    500: ErrorCode.INTERNAL,
    503: ErrorCode.UNAVAILABLE,
}
DETAIL_BY_STATUS = {
    404: "There is nothing at this address.",
    405: "This method is not allowed here; the Allow header lists those that are.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}
# How many invalid fields a 422 names in its detail line (`errors` lists them all).
DETAIL_FIELDS = 3


class ProblemException(Exception):
    """Raised by a route to answer with a problem (and any headers, such as Retry-After)."""

    def __init__(self, problem: Problem, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem
        self.headers = dict(headers or {})


# RFC 9110's names where Python 3.11's differ.
_PHRASES = {413: "Content Too Large", 422: "Unprocessable Content"}


def phrase(status: int) -> str:
    if status in _PHRASES:
        return _PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def status_for(code: ErrorCode) -> int:
    return STATUS_BY_CODE[code]


def problem(
    status: int,
    detail: str | None = None,
    code: ErrorCode | None = None,
    errors: list[ProblemField] | None = None,
) -> Problem:
    """A problem with the status phrase as its title (RFC 9457 for `about:blank`)."""
    return Problem(
        title=phrase(status),
        status=status,
        detail=detail,
        code=code if code is not None else CODE_BY_STATUS.get(status),
        errors=errors,
    )


def problem_for(error: ErrorInfo) -> Problem:
    """A service's refusal, as the gateway answers it."""
    return problem(status_for(error.code), error.message, error.code)


def problem_response(found: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        found.model_dump(mode="json", exclude_none=True),
        status_code=found.status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route that can answer with these problems."""
    return {
        status: {
            "model": Problem,
            "description": phrase(status),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def invalid_fields(errors: list[ErrorDetails] | list[Any]) -> list[ProblemField]:
    """Where each validation error is and what is wrong, never the value that was sent."""
    return [
        ProblemField(
            field=".".join(str(part)[:64] for part in error["loc"]) or "body",
            message=str(error["msg"]),
        )
        for error in errors
    ]


def validation_problem(errors: list[ProblemField]) -> Problem:
    named = "; ".join(f"{e.field}: {e.message}" for e in errors[:DETAIL_FIELDS])
    more = len(errors) - DETAIL_FIELDS
    detail = f"{named} (and {more} more)" if more > 0 else named
    return problem(422, detail or "The request is not valid.", errors=errors)


async def _on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemException)
    return problem_response(exc.problem, exc.headers)


async def _on_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_problem(invalid_fields(list(exc.errors()))))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    # Starlette's own details are the status phrase; a route's are meant for the client.
    detail = exc.detail if exc.detail != phrase(status) else None
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = allowed_methods(request)
    return problem_response(problem(status, detail or DETAIL_BY_STATUS.get(status)), headers)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path: Starlette names only the first route's,
    and a GET and a POST on one path are two routes."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods - {"HEAD"}))


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    # Logged, with its traceback, once the exception leaves the app (services.gateway.app).
    return problem_response(problem(500, DETAIL_BY_STATUS[500]))


def install(app: FastAPI) -> None:
    """Answer every error of `app` with a problem."""
    app.add_exception_handler(ProblemException, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


class LastResort:
    """Around the app: Starlette answers an unexpected exception with the 500 above, then
    raises it again so that the server can log it, which uvicorn does as a plain-text
    traceback. Here it is logged once, structured, with the route template, and goes no
    further; if nothing was answered yet, the 500 problem is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception:
            log.exception(
                "http_unexpected_error", method=method_label(scope), route=route_template(scope)
            )
            if not started:
                await problem_response(problem(500, DETAIL_BY_STATUS[500]))(scope, receive, send)
