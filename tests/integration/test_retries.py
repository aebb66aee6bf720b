"""Failed reactions are redelivered after the configured delays, a slow handler keeps its
message, and after the last delivery the message is a dead letter, acknowledged."""

from __future__ import annotations

import asyncio
import logging

import pytest
from nats.aio.client import Client

from schemas.deadletters import DeadLetter
from schemas.events import IncidentLogged
from services.core.errors import Unprocessable
from tests.integration.reactor_lane import Calls, reactor_lane
from tests.support import eventually

DELAYS = (0.3, 0.6, 1.2)


async def test_a_failing_reaction_is_redelivered_after_each_configured_delay(
    nc: Client, nats_url: str
) -> None:
    calls = Calls()

    async def fails_three_times(body: bytes, seq: int) -> None:
        calls.record(seq)
        if len(calls.at) <= len(DELAYS):
            raise RuntimeError("storage unavailable")

    async with reactor_lane(nc, nats_url, fails_three_times, retry_delays=DELAYS) as lane:
        seq = await lane.publish()
        await eventually(lambda: asyncio.sleep(0, len(calls.at) == 4), timeout=10)
        await eventually(lane.settled)
        assert calls.seqs == [seq] * 4
        for gap, delay in zip(calls.gaps(), DELAYS, strict=True):
            assert delay <= gap < delay + 0.5, (calls.gaps(), DELAYS)
        assert await lane.letters() == []


async def test_a_slow_handler_is_not_redelivered_while_it_runs(nc: Client, nats_url: str) -> None:
    calls = Calls()

    async def slow(body: bytes, seq: int) -> None:
        calls.record(seq)
        await asyncio.sleep(2.5)  # about four ack waits

    async with reactor_lane(nc, nats_url, slow, ack_wait=0.6, max_workers=4) as lane:
        info = await nc.jetstream().consumer_info(lane.stream, lane.durable)
        # The ack wait is the one configured: no server back-off to take its place.
        assert (info.config.ack_wait, info.config.backoff) == (0.6, None)
        assert info.config.max_deliver == -1  # the reactor counts deliveries itself
        await lane.publish()
        await asyncio.sleep(3.5)
        assert len(calls.at) == 1
        assert await lane.pending() == 0


async def test_after_the_last_delivery_there_is_one_dead_letter_and_the_message_is_acked(
    nc: Client, nats_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls = Calls()

    async def always_fails(body: bytes, seq: int) -> None:
        calls.record(seq)
        raise RuntimeError("could not release INC-7Q3XK2AB.notify")

    caplog.set_level(logging.WARNING)
    async with reactor_lane(nc, nats_url, always_fails, retry_delays=(0.1, 0.1)) as lane:
        seq = await lane.publish(b'{"title": "a name that must not be logged"}')
        letters = await eventually(lane.dead_letters, timeout=10)
        await eventually(lane.settled)
        await asyncio.sleep(0.5)  # nothing more arrives
        assert len(calls.at) == 3
        assert len(await lane.letters()) == 1
    letter = letters[0].record
    assert isinstance(letter, DeadLetter)
    assert (letter.consumer, letter.stream, letter.stream_seq) == (lane.durable, lane.stream, seq)
    assert letter.subject == lane.subject
    assert letter.deliveries == 3
    assert letter.error_type == "RuntimeError"
    assert letter.error == "RuntimeError: could not release INC-7Q3XK2AB.notify"
    lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    dead = [line for line in lines if line.get("event") == "reaction_dead_lettered"]
    assert len(dead) == 1, lines
    assert dead[0]["level"] == "error"
    assert (dead[0]["consumer"], dead[0]["seq"], dead[0]["deliveries"]) == (lane.durable, seq, 3)
    assert dead[0]["error_type"] == "RuntimeError"
    assert "must not be logged" not in caplog.text


async def test_an_unprocessable_message_is_dead_lettered_at_once(nc: Client, nats_url: str) -> None:
    calls = Calls()

    async def cannot(body: bytes, seq: int) -> None:
        calls.record(seq)
        raise Unprocessable("an event type this version does not know")

    async with reactor_lane(nc, nats_url, cannot, retry_delays=(5.0, 5.0)) as lane:
        await lane.publish()
        letters = await eventually(lane.dead_letters, timeout=3)
        await eventually(lane.settled)
    assert len(calls.at) == 1
    letter = letters[0].record
    assert isinstance(letter, DeadLetter)
    assert (letter.deliveries, letter.error_type) == (1, "Unprocessable")


async def test_an_unreadable_event_is_dead_lettered_not_skipped(nc: Client, nats_url: str) -> None:
    calls = Calls()

    async def handler(body: bytes, seq: int) -> None:
        calls.record(seq)

    async with reactor_lane(nc, nats_url, handler, model=IncidentLogged) as lane:
        await lane.publish(b'{"type": "incident.logged", "title": "Jordan Smith"}')
        letters = await eventually(lane.dead_letters, timeout=5)
        await eventually(lane.settled)
    assert calls.at == []
    letter = letters[0].record
    assert isinstance(letter, DeadLetter)
    assert (letter.deliveries, letter.error_type) == (1, "Unprocessable")
    assert letter.error.startswith("Unprocessable: seq 1: incident.logged: cannot read ")
    assert "Jordan" not in letter.error
