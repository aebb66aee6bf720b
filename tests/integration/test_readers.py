"""Reading a bucket while it is being written never loses a key."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from nats.aio.client import Client
from nats.js.api import KeyValueConfig

from services.core.projections import values

pytestmark = pytest.mark.integration

KEYS = [f"k{i:02d}" for i in range(40)]


async def test_every_key_is_read_while_keys_are_being_replaced(nc: Client) -> None:
    js = nc.jetstream()
    bucket = await js.create_key_value(KeyValueConfig(bucket="reader_race", history=1))
    for key in KEYS:
        await bucket.put(key, key.encode())

    async def churn() -> None:
        while True:
            for key in KEYS[::7]:  # keep replacing a handful of keys
                await bucket.put(key, key.encode())

    writer = asyncio.create_task(churn())
    try:
        for _ in range(30):
            found = sorted(v.decode() for v in await values(js, "reader_race"))
            assert found == KEYS
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await js.delete_key_value("reader_race")
