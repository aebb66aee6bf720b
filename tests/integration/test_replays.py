"""An operator's replay of a dead letter runs the handler that failed it, once; success
resolves the dead letter, failure leaves it dead with the new error."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client

from schemas import subjects
from schemas.base import utc_now
from schemas.deadletters import DeadLetter, DeadLetterResolved, ReplayRequested
from services.core.deadletters import DeadLetterStore, Letter
from tests.integration.reactor_lane import Calls, Lane, reactor_lane
from tests.support import eventually


class Fault:
    """A handler that fails while the fault is in place."""

    def __init__(self) -> None:
        self.present = True
        self.calls = Calls()

    async def __call__(self, body: bytes, seq: int) -> None:
        self.calls.record(seq)
        if self.present:
            raise ConnectionError("the disk is full")


async def _dead_letter(lane: Lane) -> Letter:
    letters = await eventually(lane.dead_letters, timeout=10)
    await eventually(lane.settled)
    assert len(letters) == 1
    return letters[0]


async def _state_after(store: DeadLetterStore, letter: Letter) -> Letter:
    async def moved() -> Letter | None:
        found = await store.find(letter.record.id)
        return found if found is not None and found.seq != letter.seq else None

    return await eventually(moved, timeout=10)


async def test_a_replay_after_the_fault_is_removed_runs_once_and_resolves(
    nc: Client, nats_url: str
) -> None:
    fault = Fault()
    store = DeadLetterStore(nc.jetstream())
    async with reactor_lane(nc, nats_url, fault, retry_delays=(0.1,)) as lane:
        seq = await lane.publish()
        letter = await _dead_letter(lane)
        assert len(fault.calls.at) == 2
        fault.present = False
        assert isinstance(letter.record, DeadLetter)
        await store.request_replay(letter.record, letter.seq, "operator")
        resolved = await _state_after(store, letter)
        assert isinstance(resolved.record, DeadLetterResolved)
        # Asked again for the same record: stale, so nothing runs twice.
        await store.request_replay(letter.record, letter.seq, "operator")
        await asyncio.sleep(1.0)
        assert fault.calls.seqs == [seq, seq, seq]
        assert await lane.letters() == []
        assert (await store.find(letter.record.id)) == resolved


async def test_a_replay_that_fails_again_leaves_it_dead_with_the_new_count(
    nc: Client, nats_url: str
) -> None:
    fault = Fault()
    store = DeadLetterStore(nc.jetstream())
    async with reactor_lane(nc, nats_url, fault, retry_delays=(0.1,)) as lane:
        await lane.publish()
        letter = await _dead_letter(lane)
        assert isinstance(letter.record, DeadLetter)
        await store.request_replay(letter.record, letter.seq, "operator")
        again = await _state_after(store, letter)
        # A request naming the record that was replaced (sent past the dedup window) is stale.
        stale = ReplayRequested(
            id=letter.record.id, letter_seq=letter.seq, requested_by="operator", at=utc_now()
        )
        await nc.jetstream().publish(
            subjects.replay_request(lane.durable, letter.record.id),
            stale.model_dump_json().encode(),
            stream=subjects.DEAD_LETTERS_STREAM,
        )
        await asyncio.sleep(1.0)
        assert await store.find(letter.record.id) == again
    assert isinstance(again.record, DeadLetter)
    assert (again.record.deliveries, again.record.replays) == (3, 1)
    assert again.record.error == "ConnectionError: the disk is full"
    assert len(fault.calls.at) == 3
