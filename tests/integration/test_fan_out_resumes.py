"""A fan-out that failed after creating its tasks but before scheduling every follow-up (its
node lost, its process killed) is not done: the redelivered reaction fans out again."""

from __future__ import annotations

import pytest

from schemas import subjects
from schemas.commands import LogIncident
from schemas.events import PlaybookTriggered
from services.core.runtime import Runtime
from services.engine.reactions import _fanned_out
from tests.integration.conftest import Caller
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration


async def schedules(runtime: Runtime, incident_id: str) -> set[str]:
    pending = f"pw.sched.{incident_id}.followup.*"
    return await runtime.store.subjects(pending, stream=subjects.TIMERS_STREAM)


async def test_a_fan_out_missing_a_follow_up_schedule_is_not_done(
    caller: Caller, runtime: Runtime
) -> None:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_type="drill-rich",
            title="Test incident",
            attributes={"person_deceased": "true"},
        ),
    )
    assert isinstance(reply.data, dict)
    incident_id: str = reply.data["incident"]["incident_id"]

    async def both_scheduled() -> set[str] | None:
        found = await schedules(runtime, incident_id)
        return found if len(found) == 2 else None

    scheduled = await eventually(both_scheduled)
    run = await runtime.store.last_of(subjects.playbook_triggered(incident_id), PlaybookTriggered)
    assert run is not None
    assert await _fanned_out(runtime, run.event)
    # As if the fan-out had failed before its last schedule. (Publishing it again here would
    # be deduplicated by its message id; after a real failure it was never stored.)
    await runtime.js.purge_stream(subjects.TIMERS_STREAM, subject=sorted(scheduled)[-1])
    assert not await _fanned_out(runtime, run.event), "a redelivery would skip the schedule"
