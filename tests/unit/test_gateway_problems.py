"""Problem details (RFC 9457): the status of each service error code, and what the gateway
answers for its own errors, through a real FastAPI app."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from schemas.api import PROBLEM_MEDIA_TYPE, Problem
from schemas.commands import ErrorCode, ErrorInfo
from services.gateway import problems
from services.gateway.problems import LastResort, ProblemException, problem, problem_for

SECRET = "Jane-Doe-4471"  # a value that must never be echoed back


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.INVALID_REQUEST, 422),
        (ErrorCode.NOT_FOUND, 404),
        (ErrorCode.NOT_ASSIGNEE, 403),
        (ErrorCode.INVALID_TRANSITION, 409),
        (ErrorCode.CONFLICT, 409),
        (ErrorCode.UNAVAILABLE, 503),
        (ErrorCode.INTERNAL, 500),
    ],
)
def test_each_service_error_code_has_its_status(code: ErrorCode, status: int) -> None:
    assert problems.status_for(code) == status


def test_every_error_code_has_a_status() -> None:
    missing = [code for code in ErrorCode if code not in problems.STATUS_BY_CODE]
    assert not missing, f"no HTTP status for {missing} in services/gateway/problems.py"


def test_a_refusal_becomes_a_problem_with_its_message_and_code() -> None:
    found = problem_for(ErrorInfo(code=ErrorCode.NOT_ASSIGNEE, message="not yours"))
    assert found == Problem(
        title="Forbidden", status=403, detail="not yours", code=ErrorCode.NOT_ASSIGNEE
    )


class Note(BaseModel):
    text: str = Field(max_length=5)
    count: int


def app() -> LastResort:
    api = FastAPI()
    problems.install(api)

    @api.post("/notes")
    async def add(note: Note) -> Note:
        return note

    @api.get("/busy")
    async def busy() -> None:
        busy_problem = problem(503, "try later", ErrorCode.UNAVAILABLE)
        raise ProblemException(busy_problem, headers={"Retry-After": "7"})

    @api.get("/broken")
    async def broken() -> None:
        raise RuntimeError(f"database said {SECRET}")

    return LastResort(api)


async def ask(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


def body_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, response.headers
    found: dict[str, Any] = json.loads(response.text)
    Problem.model_validate(found)
    return found


async def test_an_invalid_body_is_422_naming_every_field_and_no_value() -> None:
    response = await ask("POST", "/notes", json={"text": SECRET})
    assert response.status_code == 422
    found = body_of(response)
    assert found["code"] == "invalid_request"
    assert found["title"] == "Unprocessable Content"
    assert [e["field"] for e in found["errors"]] == ["body.text", "body.count"]
    assert "body.text:" in str(found["detail"]) and "body.count:" in str(found["detail"])
    assert SECRET not in response.text


async def test_an_unknown_path_is_404_without_echoing_it() -> None:
    response = await ask("GET", f"/people/{SECRET}")
    assert response.status_code == 404
    found = body_of(response)
    assert found["code"] == "not_found" and found["status"] == 404
    assert SECRET not in response.text


async def test_a_wrong_method_is_405_with_the_allowed_ones() -> None:
    response = await ask("DELETE", "/notes")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert body_of(response)["title"] == "Method Not Allowed"


async def test_a_raised_problem_keeps_its_headers() -> None:
    response = await ask("GET", "/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert body_of(response) == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "try later",
        "code": "unavailable",
    }


async def test_an_unexpected_error_is_500_without_a_traceback_and_goes_no_further() -> None:
    response = await ask("GET", "/broken")  # LastResort: nothing is raised to the server
    assert response.status_code == 500
    found = body_of(response)
    assert found["code"] == "internal"
    assert SECRET not in response.text and "Traceback" not in response.text
    assert "RuntimeError" not in response.text
