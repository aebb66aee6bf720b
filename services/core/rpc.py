"""Request-reply on both sides: serving commands and queries, and calling them.

Whatever arrives, the caller gets a reply: a malformed payload is an `invalid_request` error, a
refusal names its reason, and an unexpected failure is logged and answered as `internal`. The
service keeps serving either way. A reply too large for one NATS message travels in parts
(services.core.reply_parts), and the caller waits for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from faststream.nats import NatsMessage, NatsResponse, NatsRouter
from nats.aio.client import NO_RESPONDERS_STATUS, Client
from nats.aio.msg import Msg
from nats.errors import MaxPayloadError
from nats.js.api import Header
from pydantic import BaseModel, ValidationError

from schemas.commands import Command, ErrorCode, ErrorInfo, Reply
from schemas.principals import Principal
from services.core.assertions import HEADER, Signer, Untrusted, Verifier
from services.core.broker import undecoded
from services.core.errors import Refused, Unprocessable
from services.core.logging import get_logger
from services.core.reply_inbox import Replies, reply_inbox
from services.core.reply_parts import Assembly, BadPart, ReplyTooLarge, part_headers, split

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

    async def endpoint(message: NatsMessage) -> bytes | NatsResponse:
        principal = verified(verifier(), message.headers, subject, message.body)
        if isinstance(principal, Reply):
            reply = principal
        else:
            reply = await answer(message.body, model, handler, principal)
        return await _sent(message, subject, _encoded(reply))

    endpoint.__name__ = f"serve_{subject.replace('.', '_')}"
    router.subscriber(
        subject, queue=queue, max_workers=max_workers, title=subject, decoder=undecoded
    )(endpoint)


def _encoded(reply: Reply) -> bytes:
    return reply.model_dump_json(exclude_none=True).encode()


async def _sent(message: NatsMessage, subject: str, body: bytes) -> bytes | NatsResponse:
    """What FastStream sends back: the reply itself when it fits in one message. A larger one
    goes in parts: all but the last published here, in order, on the connection the request
    came in on (FastStream's own), then the last returned for FastStream to publish after them."""
    raw: Msg = message.raw_message
    client = raw._client
    try:
        parts = split(body, client.max_payload)
    except ReplyTooLarge as exc:
        log.error("reply_too_large", subject=subject, size=exc.size)
        return _encoded(failure(ErrorCode.INTERNAL, str(exc)))
    if len(parts) == 1 or not message.reply_to:
        return body
    count = len(parts)
    for number, part in enumerate(parts[:-1], start=1):
        await client.publish(message.reply_to, part, headers=part_headers(number, count))
    return NatsResponse(parts[-1], headers=part_headers(count, count))


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


class ReplyIncomplete(ServiceUnavailable):
    """A reply in parts that stopped coming, or came malformed: nothing of it is used."""


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
    """Send `request` signed for `caller` and wait for the whole reply: the first message
    within `timeout`, and each further part of one in parts within `timeout` of the last."""
    payload = request.model_dump_json().encode()
    if len(payload) > nc.max_payload:
        raise RequestTooLarge(
            f"the request is {len(payload):,} bytes, more than the server accepts "
            f"({nc.max_payload:,} bytes); nothing was sent"
        )
    headers = caller.signer.headers(caller.principal, subject, payload)
    return Reply.model_validate_json(await _asked(nc, subject, payload, headers, timeout))


async def _asked(
    nc: Client, subject: str, payload: bytes, headers: dict[str, str], timeout: float
) -> bytes:
    """The reply's body, from the connection's reply inbox (services.core.reply_inbox)."""
    async with reply_inbox(nc).expecting(nc) as replies:
        try:
            await nc.publish(subject, payload, reply=replies.subject, headers=headers)
        except MaxPayloadError:
            raise RequestTooLarge(
                f"the request is {len(payload):,} bytes, more than the server accepts; "
                "nothing was sent"
            ) from None
        return await _received(replies, subject, timeout)


def _no_responders(msg: Msg) -> bool:
    """The server's answer, on the reply subject, to a request (with headers) nobody serves."""
    return (msg.headers or {}).get(Header.STATUS) == NO_RESPONDERS_STATUS


async def _received(replies: Replies, subject: str, timeout: float) -> bytes:
    parts = Assembly()
    while True:
        try:
            msg = await replies.next(timeout)
        except TimeoutError:
            if parts.received:
                raise ReplyIncomplete(
                    f"the reply on {subject} arrived incomplete: {parts.received} of "
                    f"{parts.count} parts, then nothing for {timeout:g}s"
                ) from None
            raise ServiceUnavailable(f"no reply on {subject} within {timeout:g}s") from None
        if not parts.received and _no_responders(msg):
            raise ServiceUnavailable(
                f"no Pathways service answers {subject}; is `pathways up` running?"
            )
        try:
            whole = parts.add(msg.headers, msg.data)
        except BadPart as exc:
            raise ReplyIncomplete(f"the reply on {subject} arrived malformed: {exc}") from None
        if whole is not None:
            return whole
