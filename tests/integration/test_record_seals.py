"""The record verifies: an incident run by the services is intact, and an event published
straight onto its subjects with a plain NATS client is named by `pathways timeline verify`.

Periodic seals, with real engine processes on a server of their own: written once however many
engines run, written after an engine died between an incident's last event and its seal, and
the deletion of the last events before a seal is named."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.commands import GetTimeline, TaskVerb
from schemas.events import IncidentLogged, RecordSealed, ResponseCompleted
from schemas.views import Timeline
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.eventstore import EventStore, Expect
from services.core.failpoints import FAILPOINT_EXIT
from services.core.migrate import migrate
from services.core.record_reader import stored_record, verify_incident
from services.core.record_seal import HEADER, Fault
from services.engine.record_sealing import SEAL_DUE, seal_incident
from tests import support
from tests.integration.conftest import Caller
from tests.integration.helpers import act, log_incident, wait_for_tasks
from tests.support import eventually, free_port
from tests.unit.factories import T0

pytestmark = pytest.mark.integration

PATHWAYS = support.ROOT / ".venv" / "bin" / "pathways"


async def verify_cli(url: str, incident_id: str) -> tuple[int, str]:
    key = support.record_signing()[1]
    process = await asyncio.create_subprocess_exec(
        str(PATHWAYS),
        *("timeline", "verify", incident_id, "--nats-url", url, "--key", str(key)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_a_forged_event_on_the_incident_subject_is_named(
    caller: Caller, nc: Client, nats_url: str
) -> None:
    verifier = support.record_signing()[0].verifier
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["family-contact"]
    await act(caller, task, TaskVerb.ACKNOWLEDGE)
    await act(caller, task, TaskVerb.COMPLETE, note="Family reached")

    record = await stored_record(nc.jetstream(), incident_id)
    assert record and all(HEADER in m.headers for m in record)  # every append is sealed
    verdict = await verify_incident(nc.jetstream(), incident_id, verifier)
    assert verdict.intact, verdict.problem
    code, output = await verify_cli(nats_url, incident_id)
    assert code == 0, output
    assert f"{incident_id}: intact: " in output and "digest " in output

    async def timeline_names_the_digest_verify_prints() -> bool:
        reply = await caller.ok(subjects.QRY_TIMELINE, GetTimeline(incident_id=incident_id))
        shown = Timeline.model_validate(reply.data).record_digest
        verdict = await verify_incident(nc.jetstream(), incident_id, verifier)
        return shown == verdict.digest

    await eventually(timeline_names_the_digest_verify_prints)

    # A forger with a service's NATS password publishes a task event of their own.
    genuine = next(m for m in reversed(record) if ".task." in m.subject)
    body = json.loads(genuine.body)
    body["event_id"] = f"{body['event_id']}.forged"
    answer = await nc.request(genuine.subject, json.dumps(body).encode(), timeout=5)
    forged_seq = json.loads(answer.data)["seq"]

    verdict = await verify_incident(nc.jetstream(), incident_id, verifier)
    assert verdict.problem is not None
    assert (verdict.problem.seq, verdict.problem.fault) == (forged_seq, Fault.INSERTED)
    code, output = await verify_cli(nats_url, incident_id)
    assert code == 1, output
    assert output.strip() == f"{incident_id}: {verdict.problem.line()}"
    assert f"inserted: event seq {forged_seq} ({genuine.subject})" in output


QUIET = 1.0  # seconds of quiet before an incident's seal: scaled down from 30
COPIED_HEADERS_LEFT_OUT = ("Nats-Expected-Last-Subject-Sequence", "Nats-Expected-Last-Sub")


@dataclass
class Stack:
    url: str
    nc: Client
    store: EventStore  # appends sealed with the record key, as intake and the engine do
    start_engine: Callable[..., Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    engines: list[asyncio.subprocess.Process] = []

    async def start_engine(failpoint: str = "") -> asyncio.subprocess.Process:
        with (tmp_path / f"engine-{len(engines)}.log").open("wb") as log:
            engine = await asyncio.create_subprocess_exec(
                str(PATHWAYS), "run", "engine", "--nats-url", server.url,
                env=engine_env(tmp_path, failpoint), stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        engines.append(engine)
        return engine

    nc = await connect(server.url, name="tests-periodic-seals")
    try:
        await migrate(nc.jetstream())
        store = EventStore(nc, nc.jetstream(), sealer=support.record_signing()[0])
        yield Stack(server.url, nc, store, start_engine)
    finally:
        for engine in engines:
            if engine.returncode is None:
                engine.terminate()
            await engine.wait()
        await nc.close()
        await server.stop()


def engine_env(tmp_path: Path, failpoint: str) -> dict[str, str]:
    public = support.record_signing()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATHWAYS_")}
    env.update(support.signing()[1])
    env.update(
        PATHWAYS_DATA_DIR=str(tmp_path / "data"),
        PATHWAYS_RECORD_KEY_FILE=str(public.with_name("record.key")),
        PATHWAYS_RECORD_PUBLIC_KEY_FILE=str(public),
        PATHWAYS_RECORD_SEAL_QUIET_SECONDS=str(QUIET),
        PATHWAYS_ACK_WAIT_SECONDS="2",
        PATHWAYS_LOG_FORMAT="json",
        PATHWAYS_FAILPOINT=failpoint,
    )
    return env


async def run_incident(store: EventStore, incident_id: str, responses: int) -> int:
    """An incident logged (of a type no playbook answers) and `responses` further events;
    the sequence of the last."""
    logged = IncidentLogged(
        event_id=f"{incident_id}.logged", incident_id=incident_id, actor="renee.alvarez",
        at=T0, incident_type="records-drill", title="Seals", severity="low",
    )  # fmt: skip
    seq = await store.append(
        subjects.incident_logged(incident_id),
        logged,
        Expect(subjects.incident_filter(incident_id), 0),
    )
    for number in range(1, responses + 1):
        seq = await append_response(store, incident_id, number, seq if number > 1 else 0)
    return seq


async def append_response(store: EventStore, incident_id: str, number: int, last: int) -> int:
    event = ResponseCompleted(
        event_id=f"{incident_id}.response.{number}", incident_id=incident_id, actor="engine",
        at=T0, playbook_id="records-drill", run=number, completed_tasks=number,
    )  # fmt: skip
    expect = Expect(subjects.response_filter(incident_id), last)
    return await store.append(subjects.response_completed(incident_id), event, expect)


async def seals(nc: Client, incident_id: str) -> list[RecordSealed]:
    record = await stored_record(nc.jetstream(), incident_id)
    return [
        RecordSealed.model_validate_json(m.body)
        for m in record
        if m.subject == subjects.record_sealed(incident_id)
    ]


async def sealed(nc: Client, incident_id: str, count: int = 1) -> list[RecordSealed]:
    async def written() -> list[RecordSealed] | None:
        found = await seals(nc, incident_id)
        return found if len(found) >= count else None

    found = await eventually(written, timeout=20)
    assert found is not None
    return found


async def engines_ready(nc: Client) -> None:
    js = nc.jetstream()

    async def consumers_made() -> bool:
        with contextlib.suppress(NotFoundError):
            await js.consumer_info(subjects.EVENTS_STREAM, "engine-record-seals")
            await js.consumer_info(subjects.TIMERS_STREAM, "engine-on-seal-due")
            return True
        return False

    await eventually(consumers_made, timeout=20)


async def test_two_engines_write_one_seal_and_a_race_leaves_one(stack: Stack) -> None:
    await stack.start_engine()
    await stack.start_engine()
    await engines_ready(stack.nc)
    incident_id = "INC-SEAL0001"
    last = await run_incident(stack.store, incident_id, 3)
    (seal,) = await sealed(stack.nc, incident_id)
    assert (seal.events, seal.through_seq, seal.previous_seal_seq) == (4, last, 0)
    await asyncio.sleep(3 * QUIET)  # had either engine a second seal to write, it is written
    assert len(await seals(stack.nc, incident_id)) == 1

    # Two replicas sealing one record at the same moment: the server keeps one seal.
    last = await append_response(stack.store, incident_id, 4, last)
    other = await connect(stack.url, name="tests-other-replica")
    try:
        second_store = EventStore(other, other.jetstream(), sealer=support.record_signing()[0])
        written = await asyncio.gather(
            seal_incident(stack.store, stack.nc.jetstream(), incident_id),
            seal_incident(second_store, other.jetstream(), incident_id),
        )
    finally:
        await other.close()
    assert sum(1 for w in written if w is not None) == 1
    await asyncio.sleep(3 * QUIET)  # the engines' own timer for event 4 finds it sealed
    assert len(await seals(stack.nc, incident_id)) == 2
    code, output = await verify_cli(stack.url, incident_id)
    assert code == 0, output
    assert f"{incident_id}: intact: 7 events, 0 after the latest seal (seq " in output


async def test_deleting_the_last_events_before_a_seal_is_named(
    stack: Stack, tmp_path: Path
) -> None:
    await stack.start_engine()
    await engines_ready(stack.nc)
    incident_id = "INC-SEAL0002"
    await run_incident(stack.store, incident_id, 3)
    (seal,) = await sealed(stack.nc, incident_id)
    record = await stored_record(stack.nc.jetstream(), incident_id)
    seal_seq = record[-1].seq
    gone = [m.seq for m in record[-3:-1]]  # the last two responses, before the seal

    # Someone with the server's files rebuilds the stream without them, numbers kept.
    async with copied_stream(stack.nc, tmp_path, set()) as intact_url:
        code, output = await verify_cli(intact_url, incident_id)
        assert code == 0, output  # a faithful copy verifies: the copying changes nothing
    async with copied_stream(stack.nc, tmp_path, set(gone)) as copy_url:
        code, output = await verify_cli(copy_url, incident_id)
    assert code == 1, output
    assert output.strip() == (
        f"{incident_id}: deleted: event seq {gone[0]} (pw.evt.{incident_id}.>): "
        f"{seal.events} events sealed at seq {seal_seq}, {seal.events - 2} found"
    )


async def test_an_engine_killed_before_the_seal_writes_it_after_restart(stack: Stack) -> None:
    dying = await stack.start_engine(failpoint=SEAL_DUE)
    await engines_ready(stack.nc)
    incident_id = "INC-SEAL0003"
    last = await run_incident(stack.store, incident_id, 2)
    assert await asyncio.wait_for(dying.wait(), timeout=20) == FAILPOINT_EXIT
    assert await seals(stack.nc, incident_id) == []
    await stack.start_engine()
    (seal,) = await sealed(stack.nc, incident_id)
    assert (seal.events, seal.through_seq) == (3, last)


@contextlib.asynccontextmanager
async def copied_stream(nc: Client, tmp_path: Path, leave_out: set[int]) -> AsyncIterator[str]:
    """A second server whose events stream holds the first one's, sequence for sequence, but
    for `leave_out` (each stored as a stand-in and deleted, so the numbers stay)."""
    directory = tmp_path / f"copy-{len(leave_out)}"
    server = EmbeddedNats(directory, free_port())
    await server.start()
    copy = await connect(server.url, name="tests-copy")
    try:
        js, source = copy.jetstream(), nc.jetstream()
        await js.add_stream(StreamConfig(name=subjects.EVENTS_STREAM, subjects=["pw.evt.>"]))
        last = (await source.stream_info(subjects.EVENTS_STREAM)).state.last_seq
        for seq in range(1, last + 1):
            original = await source.get_msg(subjects.EVENTS_STREAM, seq)
            assert original.subject is not None
            if seq in leave_out:
                await js.publish("pw.evt.stand-in", b"")
                await js.delete_msg(subjects.EVENTS_STREAM, seq)
                continue
            headers = {
                k: v
                for k, v in (original.headers or {}).items()
                if not k.startswith(COPIED_HEADERS_LEFT_OUT)
            }
            ack = await js.publish(original.subject, original.data or b"", headers=headers)
            assert ack.seq == seq
        yield server.url
    finally:
        await copy.close()
        await server.stop()
