"""Reactors get an event the moment it arrives, and a backlog still in batches.

A fetch of many messages can linger after the first one arrives, up to its whole timeout: the
reaction to an event that arrives on its own would wait that long. These tests hold the fetch
the services use to its promise against a real server, and against a fetch that lingers on
purpose (the real one does only under load, which a test cannot order up)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from services.core.prompt_fetch import FOLLOW_ON_SECONDS, prompt
from tests.integration.reactor_lane import Calls, reactor_lane

FETCH_TIMEOUT = 5.0


@pytest.fixture
async def stream(nc: Client) -> AsyncIterator[tuple[JetStreamContext, str]]:
    js, name = nc.jetstream(), f"PROMPT_{uuid.uuid4().hex[:8]}"
    await js.add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"]))
    yield js, name
    await js.delete_stream(name)


async def _subscription(js: JetStreamContext, name: str) -> JetStreamContext.PullSubscription:
    return await js.pull_subscribe(f"{name.lower()}.>", durable="d", stream=name)


async def test_a_backlog_comes_in_batches(stream: tuple[JetStreamContext, str]) -> None:
    """What one follow-on misses stays with the client and comes with the next fetch: a backlog
    of 100 takes a handful of fetches, in order, where single-message fetches would take 100."""
    js, name = stream
    for number in range(100):
        await js.publish(f"{name.lower()}.e", str(number).encode())
    fetch = prompt((await _subscription(js, name)).fetch)
    got: list[Msg] = []
    fetches = 0
    while len(got) < 100:
        got += await fetch(64, timeout=FETCH_TIMEOUT)
        fetches += 1
    assert [int(m.data) for m in got] == list(range(100))
    assert fetches <= 10, f"{fetches} fetches for 100 waiting messages"


async def _fetch(fetch: Callable[..., Awaitable[list[Msg]]], batch: int) -> list[Msg]:
    return await fetch(batch, timeout=FETCH_TIMEOUT)


async def test_an_event_alone_is_handed_over_at_once(stream: tuple[JetStreamContext, str]) -> None:
    js, name = stream
    fetch = prompt((await _subscription(js, name)).fetch)
    for _ in range(3):
        fetching = asyncio.create_task(_fetch(fetch, 64))
        await asyncio.sleep(0.3)
        published = time.monotonic()
        await js.publish(f"{name.lower()}.e", b"alone")
        messages = await fetching
        waited = time.monotonic() - published
        assert len(messages) == 1
        assert waited < 1.0, f"handed over {waited:.2f} s after it arrived"
        await messages[0].ack()


def _delivered(pending: int) -> Msg:
    """A message as JetStream delivers it, saying `pending` more wait for the consumer."""
    reply = f"$JS.ACK.S.d.1.1.1.1700000000000000000.{pending}"
    return Msg(_client=None, subject="e", reply=reply, data=b"first")  # type: ignore[arg-type]


@pytest.mark.parametrize("pending", [0, 5, 200])
async def test_a_lingering_fetch_does_not_hold_the_first_event(pending: int) -> None:
    """The shape of the fault: asked for many, the fetch waits out its timeout after the first
    message. Asked for one, it returns it; more are asked for only when the server says they
    wait, and never more than the batch."""
    calls: list[int] = []

    async def lingering(
        batch: int = 1, timeout: float | None = 5, heartbeat: Any = None
    ) -> list[Msg]:
        calls.append(batch)
        if batch > 1 or calls[1:]:
            await asyncio.sleep(timeout or 0)
            raise TimeoutError
        return [_delivered(pending)]

    started = time.monotonic()
    messages = await prompt(lingering)(64, timeout=FETCH_TIMEOUT)
    assert [m.data for m in messages] == [b"first"]
    assert time.monotonic() - started < 0.5
    assert calls == [1, *([min(pending, 63)] if pending else [])]
    assert FOLLOW_ON_SECONDS <= 0.05  # the follow-on only takes what is already there


async def test_the_services_reactors_fetch_promptly(nc: Client, nats_url: str) -> None:
    """Through `start_reactors`, as the services start: events published one by one, with
    pauses, each reach the handler within a second."""
    calls = Calls()

    async def handler(body: bytes, seq: int) -> None:
        calls.record(seq)

    async with reactor_lane(nc, nats_url, handler, max_workers=8) as lane:
        for pause in (0.2, 0.9, 0.4, 1.3):
            await asyncio.sleep(pause)
            published = time.monotonic()
            seq = await lane.publish()
            deadline = published + FETCH_TIMEOUT
            while seq not in calls.seqs and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            late = calls.at[calls.seqs.index(seq)] - published if seq in calls.seqs else None
            assert late is not None and late < 1.0, f"seq {seq} handled after {late} s"
        subscriptions = [getattr(s, "subscription", None) for s in lane.broker.subscribers]
        fetches = [s.fetch for s in subscriptions if s is not None]
        assert fetches
        assert {f.__name__ for f in fetches} == {"fetch_promptly"}
