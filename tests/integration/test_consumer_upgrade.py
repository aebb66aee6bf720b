"""Consumers created by an older Pathways (with `backoff`, whose first step the server used as
the ack wait, and a `max_deliver` after which it dropped messages) are brought up to date at
start, without losing their place."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import APIError

from services.core.consumers import ensure_consumer, wanted

OLD_BACKOFF = [0.5, 1, 2, 5, 10, 30, 60, 120, 300]


@pytest.fixture
async def stream(nc: Client) -> AsyncIterator[str]:
    name = f"UPGRADE_{uuid.uuid4().hex[:8]}"
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"]))
    for _ in range(3):
        await js.publish(f"{name.lower()}.event", b"{}", stream=name)
    yield name
    await js.delete_stream(name)


async def _old_consumer(js: JetStreamContext, stream: str, acked: int) -> ConsumerConfig:
    old = ConsumerConfig(
        durable_name="old-reactor", filter_subject=f"{stream.lower()}.>",
        ack_policy=AckPolicy.EXPLICIT, max_deliver=10, backoff=OLD_BACKOFF, ack_wait=30,
    )  # fmt: skip
    info = await js.add_consumer(stream, old)
    assert info.config.ack_wait == 0.5  # what the server made of the back-off
    sub = await js.pull_subscribe_bind("old-reactor", stream)
    for message in await sub.fetch(acked, timeout=2):
        await message.ack_sync()
    await sub.unsubscribe()
    return wanted("old-reactor", f"{stream.lower()}.>", ack_wait=7)


async def test_an_old_consumer_is_updated_in_place(nc: Client, stream: str) -> None:
    js = nc.jetstream()
    config = await _old_consumer(js, stream, acked=2)
    before = await js.consumer_info(stream, "old-reactor")
    await ensure_consumer(js, stream, config)
    after = await js.consumer_info(stream, "old-reactor")
    assert not after.config.backoff
    assert (after.config.ack_wait, after.config.max_deliver) == (7, -1)
    assert after.created == before.created  # the same consumer, its place kept
    assert after.ack_floor is not None and after.ack_floor.stream_seq == 2


async def test_a_refused_update_recreates_it_from_its_ack_floor(
    nc: Client, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    js = nc.jetstream()
    config = await _old_consumer(js, stream, acked=2)
    real_add = js.add_consumer

    async def refuse_updates(name: str, config: ConsumerConfig, **kw: Any) -> Any:
        if config.deliver_policy != DeliverPolicy.BY_START_SEQUENCE:  # not the re-creation
            raise APIError(code=400, err_code=10012, description="consumer update refused")
        return await real_add(name, config, **kw)

    monkeypatch.setattr(js, "add_consumer", refuse_updates)
    await ensure_consumer(js, stream, config)
    after = await js.consumer_info(stream, "old-reactor")
    assert (after.config.ack_wait, after.config.max_deliver) == (7, -1)
    assert not after.config.backoff
    assert after.config.deliver_policy == DeliverPolicy.BY_START_SEQUENCE
    assert after.config.opt_start_seq == 3
    assert after.num_pending == 1  # the message never acknowledged is still to come
