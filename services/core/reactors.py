"""Durable JetStream consumers that react to events.

A failed reaction is negatively acknowledged and redelivered after a back-off (up to MAX_DELIVER
times, over about nine minutes), never dropped: FastStream's default would terminate it. An event
this version cannot read raises Unprocessable rather than being acknowledged and skipped.
Reactions are idempotent, so a redelivery changes nothing that already happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from faststream import AckPolicy
from faststream.exceptions import NackMessage
from faststream.nats import JStream, NatsMessage, NatsRouter, PullSub
from nats.js.api import ConsumerConfig

from schemas.events import Event
from schemas.evolution import UnreadableEvent, read_event
from services.core.broker import EVENTS_JSTREAM, undecoded
from services.core.errors import Unprocessable
from services.core.logging import get_logger

log = get_logger(__name__)

MAX_DELIVER = 10
BACKOFF_SECONDS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300]

EventT = TypeVar("EventT", bound=Event)


def consume(
    router: NatsRouter,
    subject_filter: str,
    durable: str,
    handler: Callable[[bytes, int], Awaitable[None]],
    *,
    max_workers: int = 1,
    batch_size: int = 16,
    ack_wait: float = 30.0,
    stream: JStream = EVENTS_JSTREAM,
) -> None:
    """Run `handler(body, stream_sequence)` for every event on the filter, via a durable
    pull consumer that replicas share."""

    async def on_message(message: NatsMessage) -> None:
        metadata = message.raw_message.metadata
        try:
            await handler(message.body, metadata.sequence.stream)
        except Exception as exc:
            raise retry_later(
                durable, metadata.sequence.stream, metadata.num_delivered, exc
            ) from exc

    on_message.__name__ = durable.replace("-", "_")
    router.subscriber(
        subject_filter,
        stream=stream,
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=5.0),
        config=ConsumerConfig(
            durable_name=durable,
            max_deliver=MAX_DELIVER,
            backoff=BACKOFF_SECONDS,
            ack_wait=ack_wait,
        ),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=max_workers,
        title=durable,
        decoder=undecoded,
    )(on_message)


def read_as(model: type[EventT], body: bytes, consumer: str, seq: int) -> EventT:
    """The event, read tolerantly (fields a newer version added are ignored, older shapes
    upcast). One this version cannot read, or of another type than the consumer expects, is
    Unprocessable: skipping it would silently drop what it asks for."""
    try:
        event = read_event(body)
    except UnreadableEvent as exc:
        log.error("event_unreadable", consumer=consumer, seq=seq, event_type=exc.event_type)
        raise Unprocessable(f"seq {seq}: {exc}") from None
    if not isinstance(event, model):
        log.error("event_unexpected", consumer=consumer, seq=seq, event_type=event.type)
        raise Unprocessable(f"seq {seq}: {event.type} where {model.__name__} was expected")
    return event


def retry_later(consumer: str, seq: int, delivered: int, exc: Exception) -> NackMessage:
    """Redeliver a failed reaction after the back-off for this delivery. A plain nack would
    redeliver at once, and a stream that has no leader for a few seconds (a node lost on a
    cluster) would use up every delivery in well under a second."""
    delay = BACKOFF_SECONDS[min(delivered, len(BACKOFF_SECONDS)) - 1]
    if delivered >= MAX_DELIVER:
        log.error("reaction_failed", consumer=consumer, seq=seq, delivered=delivered, exc_info=exc)
    else:
        log.warning(
            "reaction_retry",
            consumer=consumer,
            seq=seq,
            delivered=delivered,
            delay=delay,
            error=type(exc).__name__,
        )
    return NackMessage(delay=delay)


def react(
    router: NatsRouter,
    subject_filter: str,
    durable: str,
    model: type[EventT],
    handler: Callable[[EventT], Awaitable[None]],
    *,
    max_workers: int = 1,
    batch_size: int = 16,
    ack_wait: float = 30.0,
    stream: JStream = EVENTS_JSTREAM,
) -> None:
    """Like `consume`, with the body parsed as `model`."""

    async def parsed(body: bytes, seq: int) -> None:
        await handler(read_as(model, body, durable, seq))

    consume(
        router,
        subject_filter,
        durable,
        parsed,
        max_workers=max_workers,
        batch_size=batch_size,
        ack_wait=ack_wait,
        stream=stream,
    )
