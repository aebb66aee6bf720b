"""An incident whose after-action report and timeline are each larger than one NATS message:
`pathways review report` and `pathways timeline` still answer, whole, with the replies in parts.

The incident is written as benchmarks/review.py writes its own (benchmarks/review_incident.py:
the events the services would write, sealed and linked), on a server of this test's own with only
the timeline service running, so no other service reacts to 2,500 events written at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.aio.client import Client

from benchmarks.review_incident import write_incident
from schemas import subjects
from schemas.commands import GetTimeline
from schemas.report import Audience, GetReviewReport, ReviewReport
from services.app import load_runtime
from services.core.broker import connect
from services.core.embedded import EmbeddedNats, free_port
from services.core.eventstore import EventStore
from services.core.migrate import migrate
from services.core.reply_parts import part_size
from services.core.rpc import call
from services.core.settings import Settings
from tests.e2e.harness import ROSTER, Cli
from tests.support import ROOT, Serving, all_serving, caller, record_signing, with_key

pytestmark = pytest.mark.e2e

EVENTS = 2_500


@dataclass(frozen=True)
class Long:
    url: str
    nc: Client
    incident_id: str


@pytest.fixture
async def long_incident(tmp_path: Path) -> AsyncIterator[Long]:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    settings = Settings(nats_url=server.url, playbooks_dir=ROOT / "playbooks", roster=ROSTER)
    rt = with_key(load_runtime(settings))
    rt.sealer = record_signing()[0]
    stop = asyncio.Event()
    nc = await connect(server.url, name="tests-long-incident")
    try:
        await migrate(nc.jetstream())
        store = EventStore(nc, nc.jetstream(), sealer=rt.sealer)
        incident_id = await write_incident(store, rt.library, rt.roster, tmp_path / "keys", EVENTS)
        running = Serving(rt, ["timeline"], stop)
        try:
            await all_serving([running])
            yield Long(server.url, nc, incident_id)
        finally:
            stop.set()
            await running.task
    finally:
        await nc.close()
        await server.stop()


async def test_the_report_and_the_timeline_of_a_long_incident_arrive_in_parts(
    long_incident: Long,
) -> None:
    nc, incident_id = long_incident.nc, long_incident.incident_id
    one_message = part_size(nc.max_payload)
    query = GetReviewReport(incident_id=incident_id, audience=Audience.FULL)
    reply = await call(nc, subjects.QRY_REVIEW_REPORT, query, caller(query), timeout=60)
    assert reply.ok, reply.error
    assert len(reply.model_dump_json(exclude_none=True)) > one_message  # it took parts
    report = ReviewReport.model_validate(reply.data)
    assert report.incident.incident_id == incident_id

    cli = Cli(long_incident.url)
    out = await cli.run_async(
        "review", "report", incident_id, "--audience", "full", "--format", "json", timeout=120
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, str(out)
    printed = json.loads(out.stdout)
    assert printed["incident"]["incident_id"] == incident_id
    assert len(printed["entries"]) == len(report.entries) > 2_000

    asked = GetTimeline(incident_id=incident_id)
    timeline = await call(nc, subjects.QRY_TIMELINE, asked, caller(asked), timeout=60)
    assert len(timeline.model_dump_json(exclude_none=True)) > one_message
    out = await cli.run_async("timeline", incident_id, "--json", timeout=60)
    assert out.returncode == 0 and "Traceback" not in out.stderr, str(out)
    entries = json.loads(out.stdout)["entries"]
    assert len(entries) == EVENTS
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
