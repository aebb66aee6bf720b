"""One delivery of a message to a reaction, acknowledged by hand.

Success acknowledges. A failure is negatively acknowledged with the delay for this attempt, so
redeliveries are really spread out; after the last delivery, or at once for a message this
version can never handle, the message becomes a dead letter, and only once that is stored is
the original terminated. If storing fails, the original is redelivered later: never lost.
While a handler runs, the server is told it is in progress, so a slow handler keeps its message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from faststream.nats import NatsMessage
from nats.js import JetStreamContext
from pydantic import ValidationError

from schemas.base import utc_now
from schemas.deadletters import DeadLetter, dead_letter_id_for, describe_error
from services.core.deadletters import DeadLetterStore
from services.core.logging import get_logger
from services.core.retries import GiveUp, after_failure, error_text, max_deliveries
from services.core.settings import DEFAULT_RETRY_DELAYS

log = get_logger(__name__)

Handler = Callable[[bytes, int], Awaitable[None]]
# Longest wait before trying again to store a dead letter that could not be stored.
STORE_RETRY_CAP = 60.0


class NotBound(RuntimeError):
    pass


class DeliveriesExhausted(Exception):
    """Delivered more often than allowed with no outcome: the process handling it stopped, or
    its dead-lettering could not be stored."""


@dataclass
class Reactor:
    """A durable consumer and the handler it feeds; bound to JetStream when services start."""

    durable: str
    stream: str
    subject_filter: str
    handler: Handler
    ack_wait: float
    retry_delays: tuple[float, ...] | None = None
    _js: JetStreamContext | None = field(default=None, init=False)

    def bind(self, js: JetStreamContext, default_delays: tuple[float, ...]) -> None:
        self._js = js
        if self.retry_delays is None:
            self.retry_delays = default_delays

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise NotBound(f"reactor {self.durable} used before start_reactors()")
        return self._js

    @property
    def delays(self) -> tuple[float, ...]:
        return self.retry_delays if self.retry_delays is not None else DEFAULT_RETRY_DELAYS

    @property
    def replay_durable(self) -> str:
        return f"{self.durable}-retry"


@contextlib.asynccontextmanager
async def in_progress(message: NatsMessage, ack_wait: float) -> AsyncIterator[None]:
    """Tell the server the message is still being handled, three times per ack wait.

    Almost every handler finishes long before the first beat, so the beating task is only
    started when that first beat is due: a timer handle costs far less than a task for each of
    a thousand messages arriving at once."""
    loop = asyncio.get_running_loop()
    beating: asyncio.Task[None] | None = None

    async def beat() -> None:
        while True:
            with contextlib.suppress(Exception):
                await message.in_progress()
            await asyncio.sleep(ack_wait / 3)

    def start_beating() -> None:
        nonlocal beating
        beating = loop.create_task(beat())

    first_beat = loop.call_later(ack_wait / 3, start_beating)
    try:
        yield
    finally:
        first_beat.cancel()
        if beating is not None:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating


def log_exception(error: BaseException) -> BaseException | bool:
    """The traceback goes into the log line, except a ValidationError's: it quotes input."""
    return False if isinstance(error, ValidationError) else error


async def deliver(reactor: Reactor, message: NatsMessage) -> None:
    meta = message.raw_message.metadata
    delivery = meta.num_delivered or 1
    seq = meta.sequence.stream
    if delivery > max_deliveries(reactor.delays):
        error = DeliveriesExhausted(f"delivered {delivery} times without an outcome")
        await _dead_letter(reactor, message, delivery, error)
        return
    try:
        async with in_progress(message, reactor.ack_wait):
            await reactor.handler(message.body, seq)
    except Exception as error:
        outcome = after_failure(reactor.delays, delivery, error)
        if isinstance(outcome, GiveUp):
            await _dead_letter(reactor, message, delivery, error)
            return
        log.warning(
            "reaction_failed", consumer=reactor.durable, seq=seq, delivery=delivery,
            error_type=type(error).__name__, retry_in=outcome.delay,
            exc_info=log_exception(error),
        )  # fmt: skip
        await message.nack(delay=outcome.delay)
    else:
        await message.ack()


def letter_for(
    reactor: Reactor, seq: int, subject: str, deliveries: int, error: BaseException
) -> DeadLetter:
    return DeadLetter(
        id=dead_letter_id_for(reactor.durable, reactor.stream, seq),
        consumer=reactor.durable,
        stream=reactor.stream,
        stream_seq=seq,
        subject=subject,
        deliveries=deliveries,
        error_type=type(error).__name__,
        error=describe_error(type(error).__name__, error_text(error)),
        at=utc_now(),
    )


async def _dead_letter(
    reactor: Reactor, message: NatsMessage, delivery: int, error: BaseException
) -> None:
    seq = message.raw_message.metadata.sequence.stream
    letter = letter_for(reactor, seq, message.raw_message.subject, delivery, error)
    try:
        stored = await DeadLetterStore(reactor.js).bury(letter)
    except Exception as store_error:
        delay = min(max(reactor.delays, default=1.0), STORE_RETRY_CAP)
        log.error(
            "dead_letter_not_stored", consumer=reactor.durable, seq=seq,
            error_type=type(store_error).__name__, retry_in=delay,
        )  # fmt: skip
        await message.nack(delay=delay)
        return
    if stored:
        log.error(
            "reaction_dead_lettered", consumer=reactor.durable, seq=seq, deliveries=delivery,
            error_type=type(error).__name__, dead_letter=letter.id,
            exc_info=log_exception(error),
        )  # fmt: skip
    await message.reject()
