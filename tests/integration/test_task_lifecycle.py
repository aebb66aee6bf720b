"""Task commands on a real nats-server: transitions, refusals, declines, retries, races."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.base import split_task_id, utc_now
from schemas.commands import ActOnTask, ErrorCode, LogIncident, TaskVerb
from schemas.enums import TaskStatus
from schemas.events import IncidentLogged, TaskCreated
from schemas.tasks import TaskSnapshot
from services.core.runtime import Runtime
from services.engine import runs
from services.engine.fanout import fan_out
from tests.integration.conftest import Caller
from tests.integration.helpers import act, log_incident, tasks_of, wait_for_status, wait_for_tasks
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration


async def test_assignee_acknowledges_starts_and_completes(caller: Caller) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["family-contact"]
    for verb, status in (
        (TaskVerb.ACKNOWLEDGE, TaskStatus.ACKNOWLEDGED),
        (TaskVerb.START, TaskStatus.IN_PROGRESS),
        (TaskVerb.COMPLETE, TaskStatus.COMPLETED),
    ):
        changed, after = await act(caller, task, verb, note="Family reached")
        assert changed and after.status is status
    assert after.note == "Family reached"


async def test_someone_elses_task_and_waiting_task_are_refused_with_a_reason(
    caller: Caller,
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    tasks = await wait_for_tasks(caller, incident_id, 5)
    not_theirs = await caller(
        subjects.CMD_TASK_ACT,
        ActOnTask(
            request_id=request_id(),
            actor="dana.reyes",
            verb=TaskVerb.ACKNOWLEDGE,
            task_id=tasks["defusing"].task_id,
        ),
    )
    assert not_theirs.error is not None
    assert not_theirs.error.code is ErrorCode.NOT_ASSIGNEE
    assert (
        f"assigned to {tasks['defusing'].assignee}, not to dana.reyes" in not_theirs.error.message
    )

    waiting = await caller(
        subjects.CMD_TASK_ACT,
        ActOnTask(
            request_id=request_id(),
            actor=tasks["debriefing"].assignee or "x",
            verb=TaskVerb.ACKNOWLEDGE,
            task_id=tasks["debriefing"].task_id,
        ),
    )
    assert waiting.error is not None
    assert waiting.error.code is ErrorCode.INVALID_TRANSITION
    assert "waiting on defusing" in waiting.error.message


async def test_unknown_task_is_not_found(caller: Caller) -> None:
    reply = await caller(
        subjects.CMD_TASK_ACT,
        ActOnTask(
            request_id=request_id(),
            actor="a",
            verb=TaskVerb.ACKNOWLEDGE,
            task_id="INC-ZZZZZZZZ.nothing",
        ),
    )
    assert reply.error is not None and reply.error.code is ErrorCode.NOT_FOUND


async def test_declined_task_goes_to_the_next_holder_of_the_role(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["family-contact"]
    first = task.assignee
    changed, after = await act(caller, task, TaskVerb.DECLINE, reason="On leave")
    assert changed and after.status is TaskStatus.UNASSIGNED

    # The projection trails the reply: wait for the reassignment, not the record before it.
    async def reassigned_task() -> TaskSnapshot | None:
        found = (await tasks_of(caller, incident_id))["family-contact"]
        return found if found.status is TaskStatus.ASSIGNED and found.declined_by else None

    reassigned = await eventually(reassigned_task)
    holders = runtime.roster.holders(task.role)
    assert first is not None
    assert reassigned.assignee == holders[(holders.index(first) + 1) % len(holders)]
    assert reassigned.declined_by == (first,)


async def test_task_declined_by_every_holder_stays_in_the_pool(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["family-contact"]
    holders = runtime.roster.holders(task.role)
    declined: list[str] = []

    async def next_holder() -> TaskSnapshot | None:
        current = (await tasks_of(caller, incident_id))["family-contact"]
        fresh = current.status is TaskStatus.ASSIGNED and current.assignee not in declined
        return current if fresh else None

    for _ in holders:
        current = await eventually(next_holder)
        await act(caller, current, TaskVerb.DECLINE, reason="Unavailable")
        declined.append(current.assignee or "")
    final = await wait_for_status(caller, incident_id, "family-contact", "unassigned")
    assert final.assignee is None
    assert sorted(final.declined_by) == sorted(holders)


async def test_retried_incident_log_returns_the_same_incident(caller: Caller) -> None:
    command = LogIncident(
        request_id=request_id(),
        actor="renee.alvarez",
        incident_type="drill-manual",
        title="Retry me",
    )
    first = await caller.ok(subjects.CMD_INCIDENT_LOG, command)
    second = await caller.ok(subjects.CMD_INCIDENT_LOG, command)
    assert isinstance(first.data, dict) and isinstance(second.data, dict)
    assert first.data["incident"]["incident_id"] == second.data["incident"]["incident_id"]
    assert first.changed and not second.changed


async def test_retried_task_command_changes_nothing_twice(caller: Caller, runtime: Runtime) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["defusing"]
    same = request_id()
    assert (await act(caller, task, TaskVerb.COMPLETE, note="first", request=same))[0]
    changed, after = await act(caller, task, TaskVerb.COMPLETE, note="second", request=same)
    assert not changed and after.note == "first"
    # A fresh request for an effect that already holds is a no-op too (beyond the dedup window).
    assert not (await act(caller, task, TaskVerb.ACKNOWLEDGE))[0]
    _, key = split_task_id(task.task_id)
    stored = await runtime.store.read(subjects.task_filter(incident_id, key))
    assert [s.event.type for s in stored] == ["task.created", "task.completed"]


async def test_concurrent_commands_on_one_task_apply_once(caller: Caller, runtime: Runtime) -> None:
    """Twenty racing requests (as from several replicas or retries): the stream's
    expected-sequence check lets exactly one transition through."""
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["defusing"]
    results = await asyncio.gather(
        *(act(caller, task, TaskVerb.COMPLETE, note=f"racer {i}") for i in range(20))
    )
    assert sum(changed for changed, _ in results) == 1
    stored = await runtime.store.read(subjects.task_filter(incident_id, "defusing"))
    assert [s.event.type for s in stored] == ["task.created", "task.completed"]


@contextlib.asynccontextmanager
async def dedup_window(nc: Client, seconds: float) -> AsyncIterator[None]:
    """Shrink the events stream's duplicate window for a while, so a test can repeat a write
    as a redelivery after the window would (the message ids are no longer remembered)."""
    js = nc.jetstream()
    config = (await js.stream_info(subjects.EVENTS_STREAM)).config
    await js.update_stream(dataclasses.replace(config, duplicate_window=seconds))
    try:
        yield
    finally:
        await js.update_stream(config)


async def test_redelivered_fan_out_creates_nothing_twice(
    caller: Caller, runtime: Runtime, nc: Client
) -> None:
    """Fan-outs of one run racing each other (replicas, a redelivery mid fan-out) and another
    one after the dedup window has forgotten their message ids: every task exists once (the
    engine's own reaction to the trigger races them too)."""
    incident_id = await log_incident(caller, "drill-chain", auto_trigger=False)
    logged = await runtime.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
    assert logged is not None
    run = runs.trigger(
        runtime.library["drill-chain"], logged.event, how="manual", actor="test", now=utc_now()
    )
    async with dedup_window(nc, 0.2):
        await runtime.store.append(subjects.playbook_triggered(incident_id), run)
        await asyncio.gather(*(fan_out(runtime, run) for _ in range(4)))
        await asyncio.sleep(0.5)  # past the duplicate window
        await fan_out(runtime, run)
    await eventually(lambda: runtime.store.last(subjects.run_in_place(incident_id)))
    stored = await runtime.store.read(subjects.incident_tasks(incident_id))
    by_task = collections.Counter(
        s.event.task.key for s in stored if isinstance(s.event, TaskCreated)
    )
    assert by_task == {template.key: 1 for template in run.tasks}
    assert len(stored) == len(run.tasks)  # nothing released or created beside them


async def test_projection_catches_up_with_the_stream(caller: Caller) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["defusing"]
    await act(caller, task, TaskVerb.START)

    async def started() -> bool:
        return (await wait_for_status(caller, incident_id, "defusing", "in_progress")) is not None

    assert await eventually(started)
