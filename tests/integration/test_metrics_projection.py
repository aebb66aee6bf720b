"""The metrics projection on a real nats-server, kept by two projector replicas while a real
incident runs through the engine (a skipped task, a decline, an escalation, an acknowledged and
completed task), one replica killed and started again halfway: its records and the metrics query
give exactly what `incident_metrics` computes from the incident's raw events read back from the
stream, and a rebuild changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import LogIncident, TaskVerb
from schemas.enums import Severity, TaskStatus
from schemas.events import AnyEvent, TaskDeclined, TaskEscalated, TaskSkipped
from schemas.metrics import FollowUpPlan, GetMetrics, MetricsReply, TaskMetricsRecord
from services.app import load_runtime
from services.core import listing
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.eventstore import Stored
from services.core.library import load_library
from services.core.metrics import families_in, incident_metrics
from services.core.metrics_fold import records_of
from services.core.metrics_formats import metrics_lines
from services.core.migrate import migrate
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.projector.rebuild import rebuild
from tests import support
from tests.integration.conftest import Caller
from tests.integration.helpers import act, close, wait_for_status
from tests.support import FIXTURES, ROOT, eventually, free_port, request_id

pytestmark = pytest.mark.integration

# drill-rich's injury outreach: acknowledge within 2 hours, 5 s at this scale; the default
# chain's 15-minute waits under a second. Everything else of the run is days away.
SCALE = 0.0007


class Stack:
    """Services on a server of this module's own: intake, engine and timeline in one runtime,
    and projector replicas that the test starts and kills."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def runtime(self) -> Runtime:
        settings = Settings(
            nats_url=self.url,
            playbooks_dir=ROOT / "playbooks",
            roster=ROOT / "rosters" / "example.yaml",
            ack_wait_seconds=2,
        )
        rt = support.with_key(load_runtime(settings))
        rt.library.update(load_library(FIXTURES / "playbooks", rt.roster))
        return rt

    async def start(self, names: list[str]) -> Runtime:
        rt = self.runtime()
        stop = asyncio.Event()
        serving = support.Serving(rt, names, stop)
        self.running.append((stop, serving.task))
        await support.all_serving([serving])
        return rt

    async def kill(self, index: int) -> None:
        """Stop a service the hard way: whatever it was projecting is redelivered."""
        _, task = self.running[index]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def stop_all(self) -> None:
        for stop, task in self.running:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    client = await connect(server.url, name="tests-migrate")
    await migrate(client.jetstream())
    await client.close()
    running = Stack(server.url)
    try:
        yield running
    finally:
        await running.stop_all()
        await server.stop()


async def raw_events(rt: Runtime, incident_id: str) -> list[AnyEvent]:
    stored = await rt.store.history(subjects.incident_events(incident_id))
    return [s.event for s in stored if isinstance(s, Stored)]


async def projected(
    rt: Runtime, incident_id: str
) -> tuple[dict[str, TaskMetricsRecord], FollowUpPlan | None]:
    found = await listing.values(rt.nc, subjects.METRICS_BUCKET, [f"{incident_id}.*", incident_id])
    tasks = {k: TaskMetricsRecord.model_validate_json(v) for k, v in found.items() if "." in k}
    plan = found.get(incident_id)
    return tasks, FollowUpPlan.model_validate_json(plan) if plan else None


def without_seq(records: dict[str, TaskMetricsRecord]) -> dict[str, TaskMetricsRecord]:
    # The stream sequence and a position in the incident's events differ; nothing else may.
    return {k: r.model_copy(update={"seq": 0}) for k, r in records.items()}


async def matches_the_stream(rt: Runtime, incident_id: str) -> bool:
    events = await raw_events(rt, incident_id)
    expected = records_of(events)
    tasks, plan = await projected(rt, incident_id)
    wanted = without_seq({r.task_id: r for r in expected.tasks})
    return without_seq(tasks) == wanted and plan == expected.plan


async def log_drill(caller: Caller) -> str:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_type="drill-rich",
            title="Metrics drill",
            severity=Severity.HIGH,
            attributes={"person_deceased": "false", "people_hurt": "3", "kind": "other"},
            exercise=True,
            time_scale=SCALE,
        ),
    )
    assert isinstance(reply.data, dict)
    incident_id: str = reply.data["incident"]["incident_id"]
    return incident_id


async def test_two_replicas_killed_and_restarted_count_what_the_raw_events_say(
    stack: Stack,
) -> None:
    since = utc_now() - timedelta(minutes=1)
    core = await stack.start(["intake", "engine", "timeline"])
    await stack.start(["projector"])  # replica 1 (killed halfway)
    await stack.start(["projector"])  # replica 2
    caller = Caller(core.nc)
    incident_id = await log_drill(caller)

    outreach = await wait_for_status(caller, incident_id, "injury-outreach", TaskStatus.ASSIGNED)
    await act(caller, outreach, TaskVerb.DECLINE, reason="Off this week")
    await stack.kill(1)
    circle = await wait_for_status(caller, incident_id, "recovery-circle", TaskStatus.ASSIGNED)
    _, circle = await act(caller, circle, TaskVerb.ACKNOWLEDGE)

    async def escalated() -> bool:
        events = await raw_events(core, incident_id)
        return any(isinstance(e, TaskEscalated) for e in events)

    await eventually(escalated, timeout=30, interval=0.2)
    await stack.start(["projector"])  # replica 1 again
    await act(caller, circle, TaskVerb.COMPLETE, note="Held")
    await close(caller, incident_id)
    await eventually(partial(matches_the_stream, core, incident_id), timeout=30, interval=0.2)
    await asyncio.sleep(3)  # past the ack wait: anything redelivered has been folded again
    assert await matches_the_stream(core, incident_id)

    events = await raw_events(core, incident_id)
    reply = await caller.ok(subjects.QRY_REVIEW_METRICS, GetMetrics(since=since, exercises=True))
    assert isinstance(reply.data, dict)
    answered = MetricsReply.model_validate(reply.data)
    expected = incident_metrics(events, answered.as_of, families_in(core.roster))
    assert answered.metrics == expected.aggregates
    overall = answered.metrics.overall
    # Counted independently of the fold, straight from the events.
    assert overall.declines == sum(isinstance(e, TaskDeclined) for e in events) == 1
    assert overall.escalations == sum(isinstance(e, TaskEscalated) for e in events) >= 1
    assert overall.skipped == sum(isinstance(e, TaskSkipped) for e in events) >= 1
    assert overall.reassignments >= 1
    assert answered.metrics.incidents == 1
    shown = metrics_lines(answered)
    print("\n".join(shown))
    assert all(len(line) < 80 for line in shown)

    before = await projected(core, incident_id)
    await rebuild(core, lambda done, total: None)
    assert await projected(core, incident_id) == before
