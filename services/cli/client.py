"""Calling the services from the command line, with one-line errors and no tracebacks."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from schemas.commands import Reply
from schemas.yaml_source import SourceInvalid
from services.cli.safe import terminal_safe
from services.core import loop
from services.core.broker import NatsUnreachable, connect
from services.core.embedded import EmbeddedNatsError
from services.core.rpc import ServiceUnavailable, call

T = TypeVar("T")
errors = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)


class Refusal(Exception):
    """The service answered with an error."""


def fail(message: str) -> NoReturn:
    errors.print(f"error: {terminal_safe(message)}", markup=False)
    raise typer.Exit(1)


def execute(work: Coroutine[Any, Any, T]) -> T:
    try:
        return loop.run(work)
    except NatsUnreachable as exc:
        fail(f"cannot reach NATS at {exc.url} (is `pathways up` running? see --nats-url)")
    except (ServiceUnavailable, Refusal, EmbeddedNatsError) as exc:
        fail(str(exc))
    except SourceInvalid as exc:
        for problem in exc.errors:
            errors.print(terminal_safe(str(problem)), markup=False)
        fail(f"{len(exc.errors)} problem(s) found")


async def request(url: str, subject: str, payload: BaseModel, timeout: float = 10.0) -> Reply:
    nc = await connect(url)
    try:
        reply = await call(nc, subject, payload, timeout)
    finally:
        await nc.close()
    if not reply.ok:
        assert reply.error is not None
        raise Refusal(reply.error.message)
    return reply


def new_request_id() -> str:
    return uuid.uuid4().hex


ModelT = TypeVar("ModelT", bound=BaseModel)


_EXPECTED = {
    "task_id": "a task id like INC-7Q3XK2AB.peer-support-defusing",
    "incident_id": "an incident id like INC-7Q3XK2AB",
    "actor": "a roster member id like dana.reyes (lowercase letters, digits, . _ -)",
    "assignee": "a roster member id like dana.reyes",
    "incident_type": "a lowercase slug like officer-involved-shooting",
    "playbook_id": "a lowercase slug like officer-involved-shooting",
    "request_id": "8 to 64 letters, digits, - or _",
}


def make(model: type[ModelT], **fields: Any) -> ModelT:
    """Build a request, turning invalid input into a one-line error."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in problem["loc"]) or "input"
        expected = _EXPECTED.get(field, problem["msg"])
        fail(f"invalid {field.replace('_', ' ')} {problem.get('input')!r}: expected {expected}")
