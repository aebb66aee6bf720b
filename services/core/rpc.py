"""Request-reply on both sides: serving commands and queries, and calling them.

Whatever arrives, the caller gets a reply: a malformed payload is an `invalid_request` error, a
refusal names its reason, and an unexpected failure is logged and answered as `internal`. The
service keeps serving either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from faststream.nats import NatsMessage, NatsRouter
from nats.aio.client import Client
from nats.errors import MaxPayloadError, NoRespondersError, TimeoutError
from pydantic import BaseModel, ValidationError

from schemas.commands import Command, ErrorCode, ErrorInfo, Reply
from schemas.principals import Principal
from services.core.assertions import HEADER, Signer, Untrusted, Verifier
from services.core.broker import undecoded
from services.core.errors import Refused, Unprocessable
from services.core.logging import get_logger

log = get_logger(__name__)

RequestT = TypeVar("RequestT", bound=BaseModel)
# Every handler is told who is asking: the principal the request was signed for, never a field
# of the request itself.
Handler = Callable[[RequestT, Principal], Awaitable[Reply]]


def ok(data: BaseModel | Sequence[BaseModel] | None = None, *, changed: bool = True) -> Reply:
    """A reply carrying `data`: the operation's reply model (schemas/replies.py), or a list of
    models for an operation that answers with one."""
    if isinstance(data, BaseModel):
        return Reply(ok=True, changed=changed, data=data.model_dump(mode="json"))
    if data is None:
        return Reply(ok=True, changed=changed)
    return Reply(ok=True, changed=changed, data=[item.model_dump(mode="json") for item in data])


def failure(code: ErrorCode, message: str) -> Reply:
    return Reply(ok=False, error=ErrorInfo(code=code, message=message))


def _invalid(exc: ValidationError) -> Reply:
    problems = "; ".join(
        f"{'.'.join(str(p)[:64] for p in err['loc']) or 'body'}: {err['msg']}"
        for err in exc.errors(include_url=False)[:5]
    )
    return failure(ErrorCode.INVALID_REQUEST, problems)


def _as_principal(request: RequestT, principal: Principal) -> RequestT:
    """A command's actor is whoever the principal is, whatever the client put there."""
    if isinstance(request, Command):
        actor = principal.person or principal.account
        if request.actor != actor:
            return request.model_copy(update={"actor": actor})
    return request


async def answer(
    raw: bytes, model: type[RequestT], handler: Handler[RequestT], principal: Principal
) -> Reply:
    try:
        request = model.model_validate_json(raw)
    except ValidationError as exc:
        return _invalid(exc)
    try:
        return await handler(_as_principal(request, principal), principal)
    except Refused as exc:
        return failure(exc.code, exc.message)
    except Unprocessable:
        # The state to decide on holds an event a newer version wrote: deciding here could undo
        # what that version did.
        log.warning("request_unprocessable", request=model.__name__)
        return failure(
            ErrorCode.CONFLICT,
            "a newer version of Pathways changed this; this version cannot act on it",
        )
    except Exception:
        log.exception("request_failed", request=model.__name__)
        return failure(ErrorCode.INTERNAL, "the service failed to handle this request; see its log")


def verified(
    verifier: Verifier | None, headers: dict[str, str] | None, subject: str, body: bytes
) -> Principal | Reply:
    """The request's principal, or the reply refusing a request whose principal is untrusted."""
    if verifier is None:
        return failure(ErrorCode.UNAVAILABLE, "this service has no key to check who is asking")
    try:
        return verifier.verify((headers or {}).get(HEADER), subject, body)
    except Untrusted as exc:
        return failure(ErrorCode.UNAUTHENTICATED, str(exc))


def serve(
    router: NatsRouter,
    subject: str,
    model: type[RequestT],
    handler: Handler[RequestT],
    *,
    queue: str,
    verifier: Callable[[], Verifier | None],
    max_workers: int = 32,
) -> None:
    """Answer requests on `subject`, load-balanced over every replica in `queue`, for signed
    principals only (`verifier` gives the key, read once the service starts)."""

    async def endpoint(message: NatsMessage) -> bytes:
        principal = verified(verifier(), message.headers, subject, message.body)
        if isinstance(principal, Reply):
            reply = principal
        else:
            reply = await answer(message.body, model, handler, principal)
        return reply.model_dump_json(exclude_none=True).encode()

    endpoint.__name__ = f"serve_{subject.replace('.', '_')}"
    router.subscriber(
        subject, queue=queue, max_workers=max_workers, title=subject, decoder=undecoded
    )(endpoint)


@dataclass(frozen=True)
class Answering:
    """`serve` for one service's router and queue: `answer(subject, Model, handler)`."""

    router: NatsRouter
    queue: str
    verifier: Callable[[], Verifier | None]

    def __call__(self, subject: str, model: type[RequestT], handler: Handler[RequestT]) -> None:
        serve(self.router, subject, model, handler, queue=self.queue, verifier=self.verifier)


class ServiceUnavailable(Exception):
    pass


class RequestTooLarge(Exception):
    """The request is bigger than the server accepts; nothing was sent."""


@dataclass(frozen=True)
class Caller:
    """Who asks, and the key that vouches for them."""

    signer: Signer
    principal: Principal


async def call(
    nc: Client, subject: str, request: BaseModel, caller: Caller, timeout: float = 5.0
) -> Reply:
    payload = request.model_dump_json().encode()
    if len(payload) > nc.max_payload:
        raise RequestTooLarge(
            f"the request is {len(payload):,} bytes, more than the server accepts "
            f"({nc.max_payload:,} bytes); nothing was sent"
        )
    try:
        headers = caller.signer.headers(caller.principal, subject, payload)
        msg = await nc.request(subject, payload, timeout=timeout, headers=headers)
    except MaxPayloadError:
        raise RequestTooLarge(
            f"the request is {len(payload):,} bytes, more than the server accepts; nothing was sent"
        ) from None
    except NoRespondersError:
        raise ServiceUnavailable(
            f"no Pathways service answers {subject}; is `pathways up` running?"
        ) from None
    except TimeoutError:
        raise ServiceUnavailable(f"no reply on {subject} within {timeout:g}s") from None
    return Reply.model_validate_json(msg.data)
