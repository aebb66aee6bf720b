"""Deadlines that fire, on a real nats-server: a missed acknowledgement escalates step by step,
each step once; an acknowledgement stops it."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from schemas import subjects
from schemas.commands import LogIncident, TaskVerb
from schemas.enums import Severity
from schemas.events import TaskEscalated
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.helpers import act, close, wait_for_tasks
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration

# drill-chain's defusing: acknowledge within 30 minutes; at this scale 3.6 s, and the default
# chain's 15-minute waits 1.8 s.
SCALE = 0.002


async def exercise(caller: Caller) -> str:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_type="drill-chain",
            title="Escalation drill",
            severity=Severity.HIGH,
            exercise=True,
            time_scale=SCALE,
        ),
    )
    assert isinstance(reply.data, dict)
    incident_id: str = reply.data["incident"]["incident_id"]
    return incident_id


async def escalations(runtime: Runtime, incident_id: str, key: str) -> list[TaskEscalated]:
    stored = await runtime.store.read(subjects.task_filter(incident_id, key))
    return [s.event for s in stored if isinstance(s.event, TaskEscalated)]


async def test_a_missed_acknowledgement_escalates_step_by_step_each_once(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await exercise(caller)
    first = (await wait_for_tasks(caller, incident_id, 5))["defusing"]
    assert first.assignee is not None and first.assignment == 1

    async def four_steps() -> list[TaskEscalated] | None:
        found = await escalations(runtime, incident_id, "defusing")
        acknowledge = [e for e in found if e.deadline == "acknowledge"]
        return acknowledge if len(acknowledge) >= 4 else None

    steps = await eventually(four_steps, timeout=40, interval=0.2)
    await asyncio.sleep(2)  # a duplicate would land about now
    steps = [
        e
        for e in await escalations(runtime, incident_id, "defusing")
        if e.deadline == "acknowledge"
    ]
    assert [(e.step, e.action) for e in steps] == [
        (1, "remind"),
        (2, "notify_coordinator"),
        (3, "reassign"),
        (4, "notify_command"),
    ]
    assert steps[0].notify == (first.assignee,)
    assert steps[1].notify and "renee.alvarez" in steps[3].notify
    moved = steps[2].task
    assert moved.assignee != first.assignee and steps[2].missed_by == first.assignee
    assert moved.assignment == 2 and steps[2].notify == (moved.assignee,)
    assert steps[3].missed_by == moved.assignee
    assert Counter(e.event_id for e in steps).most_common(1)[0][1] == 1
    await close(caller, incident_id)


async def test_an_acknowledgement_stops_acknowledge_escalation(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await exercise(caller)
    task = (await wait_for_tasks(caller, incident_id, 5))["defusing"]
    await act(caller, task, TaskVerb.ACKNOWLEDGE)

    async def acknowledge_steps_pending() -> bool:
        pending = await runtime.store.subjects(
            subjects.task_deadline_schedules(incident_id, "defusing"),
            stream=subjects.TIMERS_STREAM,
        )
        return bool(pending) and not any("-ack-" in s for s in pending)

    await eventually(acknowledge_steps_pending)
    await asyncio.sleep(8)  # past where the whole acknowledge chain would have run
    found = await escalations(runtime, incident_id, "defusing")
    assert [e for e in found if e.deadline == "acknowledge"] == []
    await close(caller, incident_id)
