"""The reconciler finishes what no reaction will: runs never set up, tasks left waiting on
prerequisites that are done, follow-ups whose schedule is gone, a response complete but not
recorded. No reactions run here, so only the sweep can repair anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import ActOnTask, TaskVerb
from schemas.enums import Severity, TaskStatus
from schemas.events import IncidentLogged, PlaybookTriggered
from services.app import load_runtime
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.eventstore import Expect
from services.core.migrate import migrate
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.engine import commands, reconcile
from services.engine.commands import start_run
from tests.run_checks import load_run, problems, tasks_of
from tests.support import ROOT, free_port, principal_for, request_id

pytestmark = pytest.mark.integration


@pytest.fixture
async def idle(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Client]]:
    """A runtime attached to its own server, with no service consuming anything."""
    server = EmbeddedNats(tmp_path, free_port())
    await server.start()
    settings = Settings(
        nats_url=server.url,
        playbooks_dir=ROOT / "playbooks",
        roster=ROOT / "rosters" / "example.yaml",
        ack_wait_seconds=0.001,
    )
    rt = load_runtime(settings)
    nc = await connect(server.url, name="reconciler-test")
    try:
        await migrate(nc.jetstream())
        await rt.attach(nc)
        yield rt, nc
    finally:
        await nc.close()
        await server.stop()


async def triggered_only(rt: Runtime) -> PlaybookTriggered:
    """A hate-crime incident whose playbook was triggered, and nothing more: the engine died."""
    incident = IncidentLogged(
        event_id="INC-00000001.logged",
        incident_id="INC-00000001",
        actor="renee.alvarez",
        at=utc_now(),
        incident_type="hate-crime",
        title="Graffiti",
        severity=Severity.HIGH,
    )
    await rt.store.append(
        subjects.incident_logged(incident.incident_id),
        incident,
        Expect(subjects.incident_filter(incident.incident_id), 0),
    )
    run, created = await start_run(rt, incident, "hate-crime", how="automatic", actor="engine")
    assert created
    return run


async def complete(rt: Runtime, task_id: str, person: str) -> None:
    command = ActOnTask(
        request_id=request_id(), actor=person, verb=TaskVerb.COMPLETE, task_id=task_id
    )
    reply = await commands.act_on_task(rt, command, principal_for(command))
    assert reply.ok, reply.error


async def test_a_run_never_set_up_is_set_up_whole(idle: tuple[Runtime, Client]) -> None:
    rt, nc = idle
    run = await triggered_only(rt)
    assert await problems(nc, run.incident_id)
    swept = await reconcile.sweep(rt)
    assert swept.unfinished == 1
    assert await problems(nc, run.incident_id) == []
    again = await reconcile.sweep(rt)
    assert (again.unfinished, again.follow_ups_restored) == (0, 0)


async def test_waiting_tasks_lost_schedules_and_an_unrecorded_completion_are_repaired(
    idle: tuple[Runtime, Client],
) -> None:
    rt, nc = idle
    run = await triggered_only(rt)
    await reconcile.sweep(rt)
    incident_id = run.incident_id

    # A completion whose reaction was lost: its dependent stays waiting until the sweep.
    outreach = (await tasks_of(nc, run))["targeted-community-outreach"]
    assert outreach.assignee is not None
    await complete(rt, outreach.task_id, outreach.assignee)
    assert (await tasks_of(nc, run))["community-listening-session"].status is TaskStatus.WAITING
    await reconcile.sweep(rt)
    assert (await tasks_of(nc, run))["community-listening-session"].status is TaskStatus.ASSIGNED

    # A follow-up schedule that vanished from the timers stream is scheduled again.
    schedule = subjects.follow_up_schedule(incident_id, "victim-advocate-contact-follow-up-2")
    found = await nc.jetstream().get_msg(subjects.TIMERS_STREAM, subject=schedule)
    assert found.seq is not None
    await nc.jetstream().delete_msg(subjects.TIMERS_STREAM, found.seq)
    assert await problems(nc, incident_id)
    assert (await reconcile.sweep(rt)).follow_ups_restored == 1
    assert await problems(nc, incident_id) == []

    # Every required task completed, and no reaction recorded the response complete.
    for _ in range(len(run.tasks)):
        open_tasks = [
            t
            for t in (await tasks_of(nc, run)).values()
            if t.status in (TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED) and t.assignee
        ]
        if not open_tasks:
            break
        for task in open_tasks:
            assert task.assignee is not None
            await complete(rt, task.task_id, task.assignee)
        await reconcile.sweep(rt)
    completed = await nc.jetstream().stream_info(
        subjects.EVENTS_STREAM, subjects_filter=subjects.response_completed(incident_id)
    )
    assert completed.state.subjects == {subjects.response_completed(incident_id): 1}
    assert (await reconcile.sweep(rt)).active == 0
    assert await load_run(nc, incident_id) == run
