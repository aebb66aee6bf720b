"""Reading a bucket while it is being written never loses a key."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client
from nats.js.api import KeyValueConfig

from services.core import readers
from services.core.projections import values

pytestmark = pytest.mark.integration

KEYS = [f"k{i:02d}" for i in range(40)]


async def test_every_key_is_read_while_keys_are_being_replaced(nc: Client) -> None:
    js = nc.jetstream()
    bucket = await js.create_key_value(KeyValueConfig(bucket="reader_race", history=1))
    for key in KEYS:
        await bucket.put(key, key.encode())

    stop = asyncio.Event()

    async def churn() -> None:
        while not stop.is_set():
            for key in KEYS[::7]:  # keep replacing a handful of keys
                await bucket.put(key, key.encode())

    writer = asyncio.create_task(churn())
    try:
        for _ in range(30):
            found = sorted(v.decode() for v in await values(js, "reader_race"))
            assert found == KEYS
    finally:
        await stopped(stop, [writer])
        await js.delete_key_value("reader_race")


async def stopped(stop: asyncio.Event, writers: list[asyncio.Task[None]]) -> None:
    """Writers end at their next turn; a cancellation a client library swallows mid-request
    cannot keep one running for ever and hang the suite."""
    stop.set()
    await asyncio.wait(writers, timeout=10)
    for writer in writers:
        writer.cancel()
    await asyncio.gather(*writers, return_exceptions=True)


async def test_a_read_ends_while_a_writer_keeps_adding_keys(
    nc: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small fetches and eight writers: keys are added faster than a reader is told of them.
    monkeypatch.setattr(readers, "FETCH_SIZE", 8)
    js = nc.jetstream()
    bucket = await js.create_key_value(KeyValueConfig(bucket="reader_chase", history=1))
    for key in KEYS:
        await bucket.put(key, key.encode())
    written = 0
    stop = asyncio.Event()

    async def grow() -> None:
        nonlocal written
        while not stop.is_set():
            written += 1
            await bucket.put(f"new-{written:07d}", b"x")

    writers = [asyncio.create_task(grow()) for _ in range(8)]
    try:
        found = await asyncio.wait_for(values(js, "reader_chase"), timeout=20)
        assert set(KEYS) <= {v.decode() for v in found}
    finally:
        await stopped(stop, writers)
        await js.delete_key_value("reader_chase")
