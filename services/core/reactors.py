"""Durable JetStream consumers that react to events.

Acknowledgement is in our hands (services.core.delivery): a failed reaction is redelivered
after each of the configured delays (`PATHWAYS_RETRY_DELAYS`), then becomes a dead letter an
operator can list and replay (services.core.replays); nothing is dropped in silence. The ack
wait is `PATHWAYS_ACK_WAIT_SECONDS` exactly, and a handler still running says so. Reactions are
idempotent, so a redelivery changes nothing that already happened.

An event this version cannot read raises Unprocessable and becomes a dead letter at once rather
than being acknowledged and skipped.

`consume` and `react` only declare a reactor on a router; `start_reactors` binds them to
JetStream and sets up their consumers before the broker starts (services.app does this).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import TypeVar
from weakref import WeakKeyDictionary

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, NatsRouter, PullSub
from nats.js import JetStreamContext

from schemas import subjects
from schemas.events import Event
from schemas.evolution import UnreadableEvent, read_event
from services.core.broker import EVENTS_JSTREAM, undecoded
from services.core.consumers import ensure_consumer, wanted
from services.core.delivery import Reactor, deliver
from services.core.errors import Unprocessable
from services.core.logging import get_logger
from services.core.prompt_fetch import fetch_promptly
from services.core.replays import replay
from services.core.settings import Settings

log = get_logger(__name__)

EventT = TypeVar("EventT", bound=Event)

DEAD_LETTERS_JSTREAM = JStream(subjects.DEAD_LETTERS_STREAM, declare=False)

_reactors: WeakKeyDictionary[NatsRouter, list[Reactor]] = WeakKeyDictionary()


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
    retry_delays: Sequence[float] | None = None,
) -> None:
    """Run `handler(body, stream_sequence)` for every event on the filter, via a durable
    pull consumer that replicas share. `retry_delays` defaults to PATHWAYS_RETRY_DELAYS."""
    reactor = Reactor(
        durable=durable,
        stream=stream.name,
        subject_filter=subject_filter,
        handler=handler,
        ack_wait=ack_wait,
        retry_delays=tuple(retry_delays) if retry_delays is not None else None,
    )
    _reactors.setdefault(router, []).append(reactor)
    _subscribe(router, reactor.subject_filter, durable, stream, partial(deliver, reactor),
               ack_wait, max_workers=max_workers, batch_size=batch_size)  # fmt: skip
    _subscribe(router, subjects.replay_requests(durable), reactor.replay_durable,
               DEAD_LETTERS_JSTREAM, partial(replay, reactor), ack_wait)  # fmt: skip


def _subscribe(
    router: NatsRouter,
    subject_filter: str,
    durable: str,
    stream: JStream,
    on_message: Callable[[NatsMessage], Awaitable[None]],
    ack_wait: float,
    *,
    max_workers: int = 1,
    batch_size: int = 1,
) -> None:
    async def named(message: NatsMessage) -> None:
        await on_message(message)

    named.__name__ = durable.replace("-", "_")
    router.subscriber(
        subject_filter,
        stream=stream,
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=5.0),
        config=wanted(durable, subject_filter, ack_wait),
        ack_policy=AckPolicy.MANUAL,
        max_workers=max_workers,
        title=durable,
        decoder=undecoded,
    )(named)


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
    retry_delays: Sequence[float] | None = None,
) -> None:
    """Like `consume`, with the body parsed as `model`; a body that does not parse can never
    be handled, and is dead-lettered at once."""

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
        retry_delays=retry_delays,
    )


async def start_reactors(
    js: JetStreamContext, routers: Iterable[NatsRouter], settings: Settings, broker: NatsBroker
) -> None:
    """Bind the routers' reactors to JetStream and create or update their consumers, and make
    the (connected, not yet started) broker's pull subscriptions hand over events promptly."""
    fetch_promptly(broker.config.connection_state.stream)
    for router in routers:
        for reactor in _reactors.get(router, []):
            reactor.bind(js, settings.retry_delays)
            await ensure_consumer(
                js, reactor.stream, wanted(reactor.durable, reactor.subject_filter,
                                           reactor.ack_wait)
            )  # fmt: skip
            await ensure_consumer(
                js, subjects.DEAD_LETTERS_STREAM,
                wanted(reactor.replay_durable, subjects.replay_requests(reactor.durable),
                       reactor.ack_wait),
            )  # fmt: skip
