"""The event log cannot be erased: no rollup, purge or message delete reaches it, and only
`pathways migrate` sets up the streams, only ever widening them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType, StreamConfig
from nats.js.errors import APIError

from schemas.subjects import BUCKETS, EVENTS_STREAM, TIMERS_STREAM
from services.cli.migrating import run_migrate
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.migrate import MigrationRefused, StreamsNotSetUp, migrate, require_streams
from services.core.streams import wanted_streams
from tests.support import free_port

pytestmark = pytest.mark.integration

SUBJECT = "pw.evt.INC-PROTECT1.incident.logged"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    """A server of its own: these tests try to erase the log."""
    nats = EmbeddedNats(tmp_path / "nats", free_port())
    await nats.start()
    yield nats
    await nats.stop()


@pytest.fixture
async def client(server: EmbeddedNats) -> AsyncIterator[Client]:
    nc = await connect(server.url, name="tests-protect")
    yield nc
    await nc.close()


@pytest.fixture
async def events(client: Client) -> JetStreamContext:
    """A migrated server with three events in the log."""
    js = client.jetstream()
    await migrate(js)
    for n in range(3):
        await js.publish(f"pw.evt.INC-PROTECT{n}.incident.logged", b"{}")
    return js


async def count(js: JetStreamContext, stream: str = EVENTS_STREAM) -> int:
    return (await js.stream_info(stream)).state.messages


@pytest.mark.parametrize("rollup", ["all", "sub"])
async def test_a_rollup_to_the_events_stream_is_refused_and_nothing_is_lost(
    events: JetStreamContext, rollup: str
) -> None:
    before = await count(events)
    with pytest.raises(APIError, match="rollup"):
        await events.publish(SUBJECT, b"{}", headers={"Nats-Rollup": rollup})
    assert await count(events) == before == 3


async def test_purging_the_events_stream_is_refused(events: JetStreamContext) -> None:
    with pytest.raises(APIError, match="purge"):
        await events.purge_stream(EVENTS_STREAM)
    with pytest.raises(APIError, match="purge"):
        await events.purge_stream(EVENTS_STREAM, subject=SUBJECT)
    assert await count(events) == 3


async def test_deleting_a_message_from_the_events_stream_is_refused(
    events: JetStreamContext,
) -> None:
    first = (await events.stream_info(EVENTS_STREAM)).state.first_seq
    with pytest.raises(APIError, match="delete"):
        await events.delete_msg(EVENTS_STREAM, first)
    assert await count(events) == 3


async def test_migrate_twice_creates_then_changes_nothing(client: Client) -> None:
    js = client.jetstream()
    first = await migrate(js)
    assert all(line.endswith(": created") for line in first), first
    assert len(first) == len(wanted_streams(1)) + len(BUCKETS)  # every stream and bucket
    second = await migrate(js)
    assert all(line.endswith(": unchanged") for line in second), second


async def test_migrate_keeps_what_an_operator_widened(events: JetStreamContext) -> None:
    config = (await events.stream_info(EVENTS_STREAM)).config
    widened = replace(
        config, subjects=[*(config.subjects or []), "ops.audit.>"], duplicate_window=600.0
    )
    await events.update_stream(widened)
    lines = await migrate(events)
    assert f"stream {EVENTS_STREAM}: unchanged" in lines, lines
    after = (await events.stream_info(EVENTS_STREAM)).config
    assert after.subjects == ["pw.evt.>", "ops.audit.>"]
    assert after.duplicate_window == 600.0
    assert await count(events) == 3


async def test_migrate_protects_an_events_stream_made_without_protections(
    client: Client,
) -> None:
    js = client.jetstream()
    unprotected = StreamConfig(
        name=EVENTS_STREAM,
        subjects=["pw.evt.>"],
        storage=StorageType.FILE,
        allow_direct=True,
        allow_rollup_hdrs=True,
        max_age=3600.0,
    )
    await js.add_stream(unprotected)
    await js.publish(SUBJECT, b"{}")
    lines = await migrate(js)
    upgraded = next(line for line in lines if line.startswith(f"stream {EVENTS_STREAM}"))
    for change in ("deny_delete on", "deny_purge on", "rollup off", "discard new", "max_age"):
        assert change in upgraded, upgraded
    after = (await js.stream_info(EVENTS_STREAM)).config
    assert after.deny_delete and after.deny_purge and not after.allow_rollup_hdrs
    assert not after.max_age
    with pytest.raises(APIError, match="rollup"):
        await js.publish(SUBJECT, b"{}", headers={"Nats-Rollup": "all"})
    assert await count(js) == 1


async def test_an_events_stream_made_with_schedules_is_refused_whole_with_one_line(
    client: Client, server: EmbeddedNats
) -> None:
    js = client.jetstream()
    legacy = StreamConfig(
        name=EVENTS_STREAM,
        subjects=["pw.evt.>", "pw.sched.>"],
        storage=StorageType.FILE,
        allow_direct=True,
        allow_msg_schedules=True,
    )
    await js.add_stream(legacy)
    await js.publish(SUBJECT, b"{}")
    with pytest.raises(MigrationRefused) as refused:
        await run_migrate(server.url, 1)
    message = str(refused.value)
    assert "\n" not in message
    assert f"stream {EVENTS_STREAM}: refused" in message and "cannot turn off" in message
    after = (await js.stream_info(EVENTS_STREAM)).config
    assert after.subjects == ["pw.evt.>", "pw.sched.>"]  # nothing was changed
    assert await count(js) == 1
    assert TIMERS_STREAM not in [s.config.name for s in await js.streams_info()]


async def test_a_service_will_not_run_on_an_events_stream_from_before_migrate(
    client: Client, server: EmbeddedNats
) -> None:
    """Everything else present (as an older release left it), but the log unprotected."""
    js = client.jetstream()
    events, *others = wanted_streams(1)
    await js.add_stream(replace(events, allow_msg_schedules=True, discard=None,
                                deny_delete=False, deny_purge=False))  # fmt: skip
    for stream in others:
        await js.add_stream(stream)
    for bucket in BUCKETS:
        await js.create_key_value(KeyValueConfig(bucket=bucket.name, history=bucket.history))
    with pytest.raises(StreamsNotSetUp) as refused:
        await require_streams(js, server.url, attempts=1)
    assert refused.value.missing == EVENTS_STREAM


async def test_a_service_before_migrate_is_told_to_run_it(
    client: Client, server: EmbeddedNats
) -> None:
    url_with_password = server.url.replace("nats://", "nats://engine:s3cret@")
    with pytest.raises(StreamsNotSetUp) as missing:
        await require_streams(client.jetstream(), url_with_password, attempts=1)
    assert str(missing.value) == f"streams are not set up on {server.url}: run pathways migrate"
