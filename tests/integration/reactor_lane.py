"""A reactor of the test's own on a stream of its own, run by a broker of its own, so a test
can make a handler fail on purpose without touching the services."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from faststream.nats import JStream, NatsBroker, NatsRouter
from nats.aio.client import Client
from nats.js.api import StreamConfig

from schemas.events import Event
from services.core.broker import new_broker
from services.core.deadletters import DeadLetterStore, Letter
from services.core.logging import configure_logging
from services.core.migrate import migrate
from services.core.reactors import consume, react, start_reactors
from services.core.settings import LogFormat, Settings


@dataclass
class Calls:
    """When the handler ran (monotonic seconds) and with which sequences."""

    at: list[float] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)

    def record(self, seq: int) -> None:
        self.at.append(time.monotonic())
        self.seqs.append(seq)

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.at, self.at[1:], strict=False)]


@dataclass(frozen=True)
class Lane:
    nc: Client
    stream: str
    subject: str
    durable: str
    broker: NatsBroker

    async def publish(self, body: bytes = b"{}") -> int:
        ack = await self.nc.jetstream().publish(self.subject, body, stream=self.stream)
        return ack.seq

    async def letters(self) -> list[Letter]:
        found = await DeadLetterStore(self.nc.jetstream()).dead()
        return [letter for letter in found if letter.record.consumer == self.durable]

    async def dead_letters(self) -> list[Letter] | None:
        """For `eventually`: the dead letters once there is one."""
        return await self.letters() or None

    async def settled(self) -> bool:
        return await self.pending() == 0

    async def pending(self) -> int:
        """Messages delivered and not acknowledged yet, or waiting for redelivery."""
        info = await self.nc.jetstream().consumer_info(self.stream, self.durable)
        return (info.num_ack_pending or 0) + (info.num_pending or 0)


@contextlib.asynccontextmanager
async def reactor_lane(
    nc: Client,
    nats_url: str,
    handler: Callable[[bytes, int], Awaitable[None]],
    *,
    ack_wait: float = 5.0,
    retry_delays: tuple[float, ...] = (0.1,),
    max_workers: int = 1,
    model: type[Event] | None = None,
) -> AsyncIterator[Lane]:
    """With `model`, the reactor is a `react` one: bodies are parsed as that model first."""
    configure_logging(LogFormat.CONSOLE, "warning")  # as the integration suite does
    token = uuid.uuid4().hex[:10]
    js = nc.jetstream()
    await migrate(js)
    stream, subject = f"TEST_{token}", f"test.{token}.event"
    await js.add_stream(StreamConfig(name=stream, subjects=[f"test.{token}.>"]))
    broker = new_broker(nats_url)
    lane = Lane(nc, stream, subject, durable=f"test-{token}", broker=broker)
    router = NatsRouter()
    if model is None:
        consume(router, f"test.{token}.>", lane.durable, handler, ack_wait=ack_wait,
                stream=JStream(stream, declare=False), max_workers=max_workers)  # fmt: skip
    else:

        async def parsed(event: Event) -> None:
            await handler(event.model_dump_json().encode(), 0)

        react(router, f"test.{token}.>", lane.durable, model, parsed, ack_wait=ack_wait,
              stream=JStream(stream, declare=False))  # fmt: skip
    broker.include_router(router)
    connection = await broker.connect()
    settings = Settings(nats_url=nats_url, retry_delays=retry_delays, ack_wait_seconds=ack_wait)
    await start_reactors(connection.jetstream(), [router], settings, broker)
    await broker.start()
    try:
        yield lane
    finally:
        await broker.stop()
        await js.delete_stream(stream)
