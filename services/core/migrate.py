"""`pathways migrate`: create and upgrade the streams and buckets; the only code that does.

Services never change stream or bucket configuration: they check that what they need exists
(`require_streams`) and stop with one line if it does not. The decisions are in
services.core.streams; this module reads what is there and applies them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError, ServiceUnavailableError

from schemas.subjects import BUCKETS
from services.core.broker import without_credentials
from services.core.streams import (
    Action,
    Plan,
    bucket_stream,
    owners,
    plan_bucket,
    plan_stream,
    unprotected,
    wanted_streams,
)

T = TypeVar("T")


class StreamsNotSetUp(Exception):
    def __init__(self, url: str, missing: str) -> None:
        super().__init__(
            f"streams are not set up on {without_credentials(url)}: run pathways migrate"
        )
        self.missing = missing


class MigrationRefused(Exception):
    """A stream cannot be brought up to date (then nothing was changed), or NATS refused."""


async def _current(js: JetStreamContext, name: str) -> StreamConfig | None:
    try:
        return (await js.stream_info(name)).config
    except NotFoundError:
        return None


async def plan(js: JetStreamContext, replicas: int) -> list[Plan]:
    """Read what is there and decide, changing nothing."""
    streams = wanted_streams(replicas)
    owned = owners(streams)
    plans = [plan_stream(await _current(js, s.name or ""), s, owned) for s in streams]
    for bucket in BUCKETS:
        current = await _current(js, bucket_stream(bucket.name))
        plans.append(plan_bucket(current, bucket, replicas))
    return plans


async def _apply(js: JetStreamContext, step: Plan, replicas: int) -> None:
    if step.action is Action.UPGRADE:
        assert step.config is not None
        await js.update_stream(step.config)
    elif step.action is Action.CREATE and step.config is not None:
        await js.add_stream(step.config)
    elif step.action is Action.CREATE:
        bucket = next(b for b in BUCKETS if b.name == step.name)
        await js.create_key_value(
            KeyValueConfig(
                bucket=bucket.name,
                description=bucket.description,
                history=bucket.history,
                storage=StorageType.FILE,
                replicas=replicas,
                direct=True,
                ttl=bucket.ttl.total_seconds() if bucket.ttl else None,
            )
        )


async def _migrate(js: JetStreamContext, replicas: int) -> list[str]:
    plans = await plan(js, replicas)
    refused = [p.line() for p in plans if p.action is Action.REFUSE]
    if refused:
        raise MigrationRefused("; ".join(refused))
    for step in plans:
        await _apply(js, step, replicas)
    return [p.line() for p in plans]


async def _retrying(work: Callable[[], Awaitable[T]], attempts: int) -> T:
    """A cluster still electing its meta leader times out (or answers 503) for a moment:
    retry with back-off."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except (nats.errors.TimeoutError, ServiceUnavailableError):
            if attempt == attempts:
                raise
            await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
    raise AssertionError("attempts must be at least 1")


async def migrate(js: JetStreamContext, replicas: int = 1, attempts: int = 10) -> list[str]:
    """Bring every stream and bucket up to date, idempotently; one line per stream or bucket."""
    return await _retrying(lambda: _migrate(js, replicas), attempts)


async def require_streams(js: JetStreamContext, url: str, attempts: int = 10) -> None:
    """Services start only on streams and buckets that `pathways migrate` has set up: each
    one present, and the events stream protected."""
    await _retrying(lambda: _require(js, url), attempts)


async def _require(js: JetStreamContext, url: str) -> None:
    for wanted in wanted_streams(1):
        current = await _current(js, wanted.name or "")
        # A stream from before migrate (or one it refused) is as good as missing.
        if current is None or unprotected(current, wanted):
            raise StreamsNotSetUp(url, wanted.name or "")
    for bucket in BUCKETS:
        if await _current(js, bucket_stream(bucket.name)) is None:
            raise StreamsNotSetUp(url, bucket_stream(bucket.name))
