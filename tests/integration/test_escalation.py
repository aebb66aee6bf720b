"""Deadlines that fire, on a real nats-server: a missed acknowledgement escalates step by step,
each step once; an acknowledgement stops it, even one a moment before the deadline."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import LogIncident, TaskVerb
from schemas.enums import Severity
from schemas.escalation import DEFAULT_CHAIN, flattened
from schemas.events import TaskAcknowledged, TaskEscalated
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.helpers import act, close, wait_for_tasks
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration

# drill-chain's defusing: acknowledge within 30 minutes; at this scale 3.6 s, and the default
# chain's 15-minute waits 1.8 s.
SCALE = 0.002
# For the acknowledgement just before the deadline, a little more room to get there first on a
# busy machine: the deadline 5.4 s after logging, the steps 2.7 s apart.
ROOMIER = 0.003
# The default chain (the example roster's peer support names none): its last step comes 45
# minutes after the deadline, 8.1 s at that scale.
STEPS = flattened(DEFAULT_CHAIN)
LAST_STEP = STEPS[-1].after_deadline * ROOMIER
# How long before its deadline the task is acknowledged.
JUST_BEFORE = timedelta(seconds=0.4)


async def exercise(caller: Caller, scale: float = SCALE) -> str:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_type="drill-chain",
            title="Escalation drill",
            severity=Severity.HIGH,
            exercise=True,
            time_scale=scale,
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


async def acknowledge_schedules(runtime: Runtime, incident_id: str, key: str) -> list[str]:
    pending = await runtime.store.subjects(
        subjects.task_deadline_schedules(incident_id, key), stream=subjects.TIMERS_STREAM
    )
    return [s for s in pending if "-ack-" in s]


async def deadlines_idle(runtime: Runtime) -> bool:
    """Every deadline timer that fired has been handled."""
    info = await runtime.js.consumer_info(subjects.TIMERS_STREAM, "engine-on-deadline")
    return not info.num_pending and not info.num_ack_pending


async def test_an_acknowledgement_just_before_the_deadline_stops_every_step(
    caller: Caller, runtime: Runtime
) -> None:
    # Two drills at once: one acknowledged a moment before its deadline, one left alone to
    # show that steps do come within the same wait (the steps of its first assignee: the
    # reassignment starts a clock of its own).
    acknowledged_id, control_id = await asyncio.gather(
        exercise(caller, ROOMIER), exercise(caller, ROOMIER)
    )
    task = (await wait_for_tasks(caller, acknowledged_id, 5))["defusing"]
    await wait_for_tasks(caller, control_id, 5)
    deadline = task.acknowledge_by
    assert deadline is not None
    assert runtime.roster.escalation_for(task.role) == DEFAULT_CHAIN
    steps = len(STEPS)

    async def all_steps_scheduled() -> bool:
        return len(await acknowledge_schedules(runtime, acknowledged_id, "defusing")) == steps

    await eventually(all_steps_scheduled, timeout=10)
    wait = (deadline - JUST_BEFORE - utc_now()).total_seconds()
    assert wait > 0, f"the tasks came {-wait:.1f}s too late to acknowledge before the deadline"
    await asyncio.sleep(wait)  # not a check: the moment to act
    changed, _ = await act(caller, task, TaskVerb.ACKNOWLEDGE)
    assert changed
    [acknowledged] = [
        s.event
        for s in await runtime.store.read(subjects.task_filter(acknowledged_id, "defusing"))
        if isinstance(s.event, TaskAcknowledged)
    ]
    before = (deadline - acknowledged.at).total_seconds()
    assert 0 < before < 1, f"acknowledged {before:.2f}s before the deadline: not just before it"

    async def control_steps() -> list[TaskEscalated] | None:
        found = await escalations(runtime, control_id, "defusing")
        acknowledge = [e for e in found if e.deadline == "acknowledge"]
        return acknowledge if len(acknowledge) >= 3 else None

    control = await eventually(control_steps, timeout=30, interval=0.2)
    assert [e.action for e in control[:3]] == ["remind", "notify_coordinator", "reassign"]
    await close(caller, control_id)

    async def past_the_last_step() -> bool:
        return utc_now() > deadline + LAST_STEP + timedelta(seconds=1)

    await eventually(past_the_last_step, timeout=LAST_STEP.total_seconds() + 30, interval=0.1)
    await eventually(lambda: deadlines_idle(runtime), timeout=10, interval=0.1)
    found = await escalations(runtime, acknowledged_id, "defusing")
    assert [e for e in found if e.deadline == "acknowledge"] == []
    assert await acknowledge_schedules(runtime, acknowledged_id, "defusing") == []
    await close(caller, acknowledged_id)
