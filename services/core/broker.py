"""Connecting to NATS and declaring the stream and buckets, in this one place."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import nats
from faststream.nats import JStream, NatsBroker, NatsMessage
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from nats.js.kv import KeyValue

from schemas.subjects import (
    BUCKETS,
    DEAD_LETTERS,
    EVENTS,
    INCIDENTS_BUCKET,
    TASKS_BUCKET,
    TIMERS,
)
from services.core.logging import BROKER_LOGGER

# Subscribers bind to the stream declared below; FastStream must not re-declare it with its own
# idea of the configuration.
EVENTS_JSTREAM = JStream(EVENTS.name, declare=False)
TIMERS_JSTREAM = JStream(TIMERS.name, declare=False)


async def undecoded(message: NatsMessage) -> NatsMessage:
    """Hand handlers the message itself: our bodies are parsed once, by the pydantic model that
    owns them, not first by FastStream's JSON decoder."""
    return message


class NatsUnreachable(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(f"cannot reach NATS at {url}")
        self.url = url


def new_broker(url: str) -> NatsBroker:
    return NatsBroker(
        servers=url.split(","),
        # FastStream's per-message lines are debug-level: a busy engine handles thousands of
        # messages a second. Its logger is quietened in services.core.logging.
        logger=logging.getLogger(BROKER_LOGGER),
        log_level=logging.DEBUG,
        connect_timeout=2,
        max_reconnect_attempts=-1,
        allow_reconnect=True,
        graceful_timeout=10.0,
        # Handlers take the raw message and validate it themselves; FastStream's per-call
        # dependency resolution ran in a worker thread and cost more than the work.
        apply_types=False,
    )


async def quiet(_: Exception) -> None:
    """nats-py logs every failed attempt with a traceback; callers report failures themselves."""


async def connect(url: str, name: str = "pathways-cli") -> Client:
    """A plain client for short-lived callers (CLI, benchmarks); one clear error if unreachable."""
    try:
        return await nats.connect(
            servers=url.split(","),
            name=name,
            connect_timeout=2,
            # nats-py reads 0 as "retry forever"; 1 means two quick tries, then a clear error.
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            allow_reconnect=False,
            error_cb=quiet,
        )
    except (OSError, nats.errors.NoServersError, nats.errors.TimeoutError) as exc:
        raise NatsUnreachable(url) from exc


async def declare(js: JetStreamContext, replicas: int = 1, attempts: int = 10) -> None:
    """Create or update the stream and buckets (idempotent). A cluster that is still electing
    its meta leader times out for a moment, so this retries before giving up."""
    for attempt in range(1, attempts + 1):
        try:
            await _declare(js, replicas)
            return
        except nats.errors.TimeoutError:
            if attempt == attempts:
                raise
            await asyncio.sleep(min(0.2 * 2**attempt, 5.0))


async def _declare(js: JetStreamContext, replicas: int) -> None:
    config = StreamConfig(
        name=EVENTS.name,
        description=EVENTS.description,
        subjects=list(EVENTS.subjects),
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=EVENTS.duplicate_window.total_seconds(),
        allow_direct=True,
        allow_msg_schedules=True,
        allow_atomic=True,
    )
    timers = StreamConfig(
        name=TIMERS.name,
        description=TIMERS.description,
        subjects=list(TIMERS.subjects),
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=TIMERS.duplicate_window.total_seconds(),
        allow_direct=True,
        allow_msg_schedules=True,
    )
    dead_letters = StreamConfig(
        name=DEAD_LETTERS.name,
        description=DEAD_LETTERS.description,
        subjects=list(DEAD_LETTERS.subjects),
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=DEAD_LETTERS.duplicate_window.total_seconds(),
        allow_direct=True,
    )
    for stream in (config, timers, dead_letters):
        try:
            await js.stream_info(stream.name or "")
            await js.update_stream(stream)
        except NotFoundError:
            await js.add_stream(stream)
    for bucket in BUCKETS:
        try:
            await js.key_value(bucket.name)
            # A bucket is a stream underneath; raising PATHWAYS_STREAM_REPLICAS reaches it too.
            info = await js.stream_info(f"KV_{bucket.name}")
            if info.config.num_replicas != replicas:
                await js.update_stream(replace(info.config, num_replicas=replicas))
        except (NotFoundError, BadRequestError):
            await js.create_key_value(
                KeyValueConfig(
                    bucket=bucket.name,
                    description=bucket.description,
                    history=bucket.history,
                    storage=StorageType.FILE,
                    replicas=replicas,
                    direct=True,
                )
            )


async def tasks_bucket(js: JetStreamContext) -> KeyValue:
    return await js.key_value(TASKS_BUCKET)


async def incidents_bucket(js: JetStreamContext) -> KeyValue:
    return await js.key_value(INCIDENTS_BUCKET)
