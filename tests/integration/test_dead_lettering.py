"""The edges of dead-lettering, with a stand-in for the delivered message: a message delivered
more often than allowed is dead-lettered without running again, and a dead letter that cannot
be stored leaves the original to be redelivered later, never acknowledged."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from faststream.nats import NatsMessage
from nats.aio.client import Client
from nats.js import JetStreamContext

from schemas.deadletters import DeadLetter, dead_letter_id_for
from services.core.deadletters import DeadLetterStore
from services.core.delivery import Reactor, deliver
from services.core.migrate import migrate
from tests.support import request_id


@dataclass
class Delivered:
    """What the reactor did with the message."""

    body: bytes
    raw_message: Any
    done: list[tuple[str, float | None]] = field(default_factory=list)

    async def ack(self) -> None:
        self.done.append(("ack", None))

    async def nack(self, delay: float | None = None) -> None:
        self.done.append(("nack", delay))

    async def reject(self) -> None:
        self.done.append(("term", None))

    async def in_progress(self) -> None:
        self.done.append(("wip", None))


def delivered(seq: int, delivery: int) -> Delivered:
    meta = SimpleNamespace(num_delivered=delivery, sequence=SimpleNamespace(stream=seq))
    return Delivered(b"{}", SimpleNamespace(metadata=meta, subject="test.lane.event"))


def reactor(js: JetStreamContext, ran: list[int]) -> Reactor:
    async def handler(body: bytes, seq: int) -> None:
        ran.append(seq)

    made = Reactor(f"test-{request_id()[:10]}", "TEST_STREAM", "test.>", handler, ack_wait=5)
    made.bind(js, (0.1, 0.2))
    return made


async def test_a_message_delivered_more_often_than_allowed_is_dead_lettered_unrun(
    nc: Client,
) -> None:
    await migrate(nc.jetstream())
    ran: list[int] = []
    lane = reactor(nc.jetstream(), ran)
    message = delivered(seq=41, delivery=4)  # three were allowed; the last one never finished
    await deliver(lane, cast(NatsMessage, message))
    assert ran == []
    assert message.done == [("term", None)]
    found = await DeadLetterStore(nc.jetstream()).find(
        dead_letter_id_for(lane.durable, "TEST_STREAM", 41)
    )
    assert found is not None and isinstance(found.record, DeadLetter)
    assert (found.record.deliveries, found.record.error_type) == (4, "DeliveriesExhausted")


class Unavailable:
    """A JetStream whose writes fail, as during an outage."""

    async def publish(self, *args: object, **kwargs: object) -> None:
        raise TimeoutError("nats: timeout")


async def test_a_dead_letter_that_cannot_be_stored_is_redelivered_later(nc: Client) -> None:
    ran: list[int] = []
    lane = reactor(nc.jetstream(), ran)
    lane.bind(cast(JetStreamContext, Unavailable()), (0.1, 0.2))
    message = delivered(seq=42, delivery=4)
    await deliver(lane, cast(NatsMessage, message))
    assert message.done == [("nack", 0.2)]
