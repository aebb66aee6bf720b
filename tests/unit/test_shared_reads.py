"""Concurrent reads that share one request, and lookups built once per immutable object."""

from __future__ import annotations

import asyncio

import pytest

from schemas.memo import IdentityMemo
from services.core.singleflight import SingleFlight


async def test_concurrent_reads_of_one_key_share_one_request_and_the_next_reads_again() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    reads = 0
    gate = asyncio.Event()

    async def read() -> int:
        nonlocal reads
        reads += 1
        await gate.wait()
        return reads

    waiting = [asyncio.create_task(flight.run("a", read)) for _ in range(50)]
    other = asyncio.create_task(flight.run("b", read))
    await asyncio.sleep(0)
    gate.set()
    answers = set(await asyncio.gather(*waiting))
    assert len(answers) == 1  # all fifty got the one read's answer
    await other
    assert reads == 2  # one for "a", one for "b"
    assert await flight.run("a", read) == 3  # nothing is kept once answered


async def test_one_caller_cancelled_leaves_the_others_their_answer() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    gate = asyncio.Event()

    async def read() -> str:
        await gate.wait()
        return "answer"

    first = asyncio.create_task(flight.run("k", read))
    second = asyncio.create_task(flight.run("k", read))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == "answer"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_failed_read_fails_every_caller_and_is_not_kept() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def read() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise ConnectionError("away")
        return 7

    results = await asyncio.gather(
        flight.run("k", read), flight.run("k", read), return_exceptions=True
    )
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    assert await flight.run("k", read) == 7


class Frozen:
    def __init__(self, items: tuple[str, ...]) -> None:
        self.items = items


def test_a_lookup_is_built_once_per_object_and_afresh_for_another_with_equal_content() -> None:
    built: list[Frozen] = []

    def index(obj: Frozen) -> dict[str, int]:
        built.append(obj)
        return {item: n for n, item in enumerate(obj.items)}

    memo = IdentityMemo(index, size=2)
    one, two, three = Frozen(("a", "b")), Frozen(("a", "b")), Frozen(("c",))
    assert memo(one) == {"a": 0, "b": 1}
    assert memo(one) is memo(one)
    assert memo(two) == {"a": 0, "b": 1}
    assert built == [one, two]
    memo(three)  # evicts `one`, the least recently asked about
    memo(one)
    assert built == [one, two, three, one]
