"""Calling the services from the command line, with one-line errors and no tracebacks."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from rich.console import Console

from schemas.base import PersonId
from schemas.commands import Command, Reply
from schemas.limits import FLAGS
from schemas.yaml_source import SourceInvalid
from services.cli import http_api
from services.cli.credentials import SignedIn, signed_in
from services.cli.http_api import ApiRefusal
from services.cli.identity import NoOperatorKey, caller_for
from services.cli.safe import terminal_safe
from services.core import loop
from services.core.broker import InvalidNatsUrl, NatsUnreachable, connect
from services.core.datadir import DataDirBusy
from services.core.embedded import EmbeddedNatsError
from services.core.migrate import MigrationRefused, StreamsNotSetUp
from services.core.rpc import RequestTooLarge, ServiceUnavailable, call

T = TypeVar("T")
errors = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)


class Refusal(Exception):
    """The service answered with an error."""


SIGN_IN = (
    "not signed in: run `pathways login` (or set PATHWAYS_TOKEN); with the example roster or "
    "in an exercise, --as PERSON acts for someone"
)


class _Speaking:
    """The signed-in account a command acts as, once `acting` chose it (one per process)."""

    api: SignedIn | None = None


def acting(person: str | None) -> str:
    """Who a command acts as: the person `--as` names (the operator path, over NATS), else
    the account signed in with an API token (over HTTP); one line saying how to sign in when
    there is neither."""
    if person is not None:
        return person
    api = signed_in()
    if api is None:
        fail(SIGN_IN)
    account = execute(http_api.me(api))
    _Speaking.api = api
    return account.person or account.account


def speaking_over_http() -> bool:
    """Whether this command acts over HTTP (then the gateway seals what it must)."""
    return _Speaking.api is not None


def as_option(actor: str) -> str:
    """How to name the actor again in a command to suggest: nothing when signed in."""
    return "" if speaking_over_http() else f" --as {actor}"


def _over_http(payload: BaseModel, reader: str | None) -> SignedIn | None:
    """A command goes over HTTP when it acts as the signed-in account; a query when it reads
    as nobody named (`--as`) and a token is there."""
    if isinstance(payload, Command):
        return _Speaking.api
    return signed_in() if reader is None else None


def fail(message: str) -> NoReturn:
    errors.print(f"error: {terminal_safe(message)}", markup=False)
    raise typer.Exit(1)


def execute(work: Coroutine[Any, Any, T]) -> T:
    try:
        return loop.run(work)
    except InvalidNatsUrl as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        errors.print("interrupted", markup=False)
        raise typer.Exit(130) from None
    except NatsUnreachable as exc:
        fail(f"cannot reach NATS at {exc.url} (is `pathways up` running? see --nats-url)")
    except (
        ServiceUnavailable,
        RequestTooLarge,
        Refusal,
        EmbeddedNatsError,
        DataDirBusy,
        StreamsNotSetUp,
        MigrationRefused,
        NoOperatorKey,
        ApiRefusal,
    ) as exc:
        fail(str(exc))
    except SourceInvalid as exc:
        for problem in exc.errors:
            errors.print(terminal_safe(str(problem)), markup=False)
        fail(f"{len(exc.errors)} problem(s) found")


async def request(
    url: str, subject: str, payload: BaseModel, timeout: float = 10.0, *, reader: str | None = None
) -> Reply:
    """Send `payload` as its actor (a command) or as `reader` (a query): over HTTP as the
    signed-in account, else over NATS as the operator (see cli/identity)."""
    api = _over_http(payload, reader)
    if api is not None:
        return await http_api.call(api, subject, payload, timeout)
    caller = caller_for(payload, reader)
    nc = await connect(url)
    try:
        reply = await call(nc, subject, payload, caller, timeout)
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


def _over_limit(problem: ErrorDetails) -> str | None:
    """A value past one of the limits in schemas.limits, named by its flag, without echoing
    what may be megabytes of it."""
    kind, loc, ctx = problem["type"], problem["loc"], problem.get("ctx") or {}
    flag = FLAGS.get(str(loc[0]), f"--{str(loc[0]).replace('_', '-')}") if loc else "input"
    if kind == "string_too_long":
        if len(loc) > 2 and loc[-1] == "[key]":
            what = f"{flag} key"
        elif len(loc) > 1:
            what = f"{flag} {str(loc[1])[:64]}"
        else:
            what = flag
        size = len(problem.get("input") or "")
        return f"{what} is too long: {size:,} characters, the limit is {ctx['max_length']:,}"
    if kind == "too_long":
        return f"too many {flag}: {ctx.get('actual_length')}, the limit is {ctx['max_length']}"
    if kind == "less_than_equal" and loc and loc[0] == "limit":
        return f"{flag} is {problem.get('input')}: the most one page holds is {ctx['le']}"
    return None


_PERSON: TypeAdapter[str] = TypeAdapter(PersonId)


def person_option(value: str | None, flag: str) -> None:
    """One line naming `flag` if `value` cannot be a roster member id."""
    if value is None:
        return
    try:
        _PERSON.validate_python(value)
    except ValidationError:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        fail(f"invalid {flag} {shown}: expected {_EXPECTED['actor']}")


def make(model: type[ModelT], **fields: Any) -> ModelT:
    """Build a request, turning invalid input into a one-line error."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        over = _over_limit(problem)
        if over is not None:
            fail(over)
        field = ".".join(str(p)[:64] for p in problem["loc"]) or "input"
        expected = _EXPECTED.get(field, problem["msg"])
        shown = repr(problem.get("input"))
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        fail(f"invalid {field.replace('_', ' ')} {shown}: expected {expected}")
