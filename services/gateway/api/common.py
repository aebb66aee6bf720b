"""What every /api/v1 route shares: sending a command (with its Idempotency-Key) or a query
through the edge, the problems each may answer with, and the headers of a page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Query, Request, Response
from pydantic import BaseModel, ValidationError

from schemas.api import Outcome
from schemas.base import INCIDENT_ID_PATTERN, TASK_ID_PATTERN
from schemas.catalog import BY_SUBJECT
from schemas.limits import CURSOR_MAX, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX
from schemas.principals import Principal
from schemas.replies import Page
from services.gateway.edge import edge_of
from services.gateway.idempotency import (
    HEADER,
    KEY_MAX,
    KEY_PATTERN,
    check_key,
    claim,
    fingerprint,
    fresh_request_id,
    request_id_for,
)
from services.gateway.problems import (
    ProblemException,
    invalid_fields,
    problem_responses,
    validation_problem,
)

# What any route that reaches the services may answer with besides its success.
QUERY_PROBLEMS = problem_responses(401, 403, 404, 422, 429, 503)
# 400: a body that is not JSON at all.
COMMAND_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=KEY_MAX,
        pattern=KEY_PATTERN,
        description="Send the same key to retry safely: the request is applied once, and the "
        "answer says `changed: false` the second time. A key used for another request in the "
        "last 24 hours is refused (422).",
    ),
]
IncidentPath = Annotated[
    str,
    Path(
        pattern=INCIDENT_ID_PATTERN,
        description="The incident: INC- and eight characters",
        examples=["INC-7K3M9Q2X"],
    ),
]
TaskPath = Annotated[
    str,
    Path(
        pattern=TASK_ID_PATTERN,
        description="The task: its incident, a dot, and its key in the playbook",
        examples=["INC-7K3M9Q2X.peer-support-defusing"],
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=LIST_LIMIT_MAX, description="Items on one page (at most 500)")
]
Cursor = Annotated[
    str | None,
    Query(max_length=CURSOR_MAX, description="Where the previous page ended: its next_cursor"),
]
PAGE_HEADERS = {
    "Link": {
        "description": 'The next page, when there is one: `<…>; rel="next"`',
        "schema": {"type": "string"},
    }
}
DEFAULT_LIMIT = LIST_LIMIT_DEFAULT


def build(model: type[BaseModel], fields: dict[str, Any]) -> BaseModel:
    """The internal request; its own checks answered as a 422 problem naming the fields."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise ProblemException(
            validation_problem(invalid_fields(exc.errors(include_url=False)))
        ) from None


async def send(
    request: Request,
    principal: Principal,
    subject: str,
    key: str | None,
    fields: dict[str, Any],
) -> Outcome[Any]:
    """Send the command of `subject` made of `fields`, as `principal`. With an Idempotency-Key,
    the request id comes from it (and what it asks is remembered); without, a new one."""
    edge = await edge_of(request)
    operation = BY_SUBJECT[subject]
    if key is not None:
        check_key(key)
    request_id = fresh_request_id() if key is None else request_id_for(principal.account, key)
    actor = principal.person or principal.account
    command = build(operation.request, {**fields, "request_id": request_id, "actor": actor})
    if key is not None:
        await claim(edge.idempotency, request_id, fingerprint(subject, command))
    answered = await edge.dispatch(principal, operation, command)
    return Outcome[Any](changed=answered.changed, data=answered.data, notice=answered.notice)


async def ask(request: Request, principal: Principal, subject: str, fields: dict[str, Any]) -> Any:
    """The answer to the query of `subject` made of `fields`, as `principal` may read it."""
    edge = await edge_of(request)
    operation = BY_SUBJECT[subject]
    answered = await edge.dispatch(principal, operation, build(operation.request, fields))
    return answered.data


def link_next(request: Request, response: Response, page: Page[Any]) -> None:
    """RFC 8288 `Link` to the next page: this request's address with the page's cursor."""
    if page.next_cursor is None:
        return
    url = request.url.include_query_params(cursor=page.next_cursor)
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
