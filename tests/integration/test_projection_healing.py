"""Projections that heal: damaged records (garbage bytes, deleted keys) never break a list, the
projector overwrites them, and a rebuild from the stream ends where a fresh replay does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from schemas import subjects
from schemas.commands import GetIncident, ListIncidents, ListTasks, TaskVerb
from schemas.views import TaskRecord
from services.core.projections import entries, readable
from services.core.runtime import Runtime
from services.projector.rebuild import rebuild
from tests.integration.conftest import Caller
from tests.integration.helpers import act, log_incident, tasks_of, wait_for_status, wait_for_tasks

pytestmark = pytest.mark.integration

GARBAGE = b"\x00\xff not a record"
BUCKETS = (subjects.TASKS_BUCKET, subjects.INCIDENTS_BUCKET)


async def snapshot(rt: Runtime) -> dict[str, Any]:
    """Every live record of both projections, parsed where it parses."""
    found: dict[str, Any] = {}
    for bucket in BUCKETS:
        for entry in await entries(rt.js, bucket):
            if entry.value is not None:
                try:
                    found[f"{bucket}/{entry.key}"] = json.loads(entry.value)
                except ValueError:
                    found[f"{bucket}/{entry.key}"] = repr(entry.value)
    return found


async def writes(rt: Runtime) -> tuple[int, ...]:
    """The last sequence of each bucket's stream: it moves with every write."""
    infos = [await rt.js.stream_info(f"KV_{bucket}") for bucket in BUCKETS]
    return tuple(info.state.last_seq for info in infos)


async def quiet(rt: Runtime) -> None:
    """Wait until the projector has nothing left to write."""
    before = await writes(rt)
    while True:
        await asyncio.sleep(0.5)
        now = await writes(rt)
        if now == before:
            return
        before = now


async def test_damaged_records_never_break_a_list_and_are_put_back(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    tasks = await wait_for_tasks(caller, incident_id, 5)
    await quiet(runtime)
    await runtime.tasks.put(tasks["defusing"].task_id, GARBAGE)
    await runtime.tasks.put(tasks["listening-session"].task_id, b"{}")
    await runtime.tasks.delete(tasks["family-contact"].task_id)
    await runtime.tasks.delete(tasks["review"].task_id)
    await runtime.incidents.put(incident_id, GARBAGE)
    await runtime.tasks.put("not-a-task-id", GARBAGE)

    # Lists stay whole and correct: what the bucket cannot give, the stream does.
    assert await tasks_of(caller, incident_id) == tasks
    everyone = await caller.ok(subjects.QRY_TASK_LIST, ListTasks(limit=500))
    assert isinstance(everyone.data, dict)
    assert len([t for t in everyone.data["items"] if t["incident_id"] == incident_id]) == 5
    listed = await caller.ok(subjects.QRY_INCIDENT_LIST, ListIncidents(limit=500))
    assert isinstance(listed.data, dict) and incident_id not in {
        i["incident_id"] for i in listed.data["items"]
    }
    shown = await caller.ok(subjects.QRY_INCIDENT_GET, GetIncident(incident_id=incident_id))
    assert isinstance(shown.data, dict) and shown.data["incident_id"] == incident_id

    # The projector overwrites an unreadable record and puts a deleted one back.
    for key in ("defusing", "family-contact"):
        await act(caller, tasks[key], TaskVerb.ACKNOWLEDGE)
        await wait_for_status(caller, incident_id, key, "acknowledged")
        entry = await runtime.tasks.get(tasks[key].task_id)
        record = readable(TaskRecord, entry.value)
        assert record is not None and record.task.status == "acknowledged"


async def test_rebuild_ends_where_a_fresh_replay_does_and_changes_nothing_when_repeated(
    caller: Caller, runtime: Runtime
) -> None:
    first = await log_incident(caller, "drill-chain")
    second = await log_incident(caller, "drill-chain")
    tasks = await wait_for_tasks(caller, first, 5)
    await wait_for_tasks(caller, second, 5)
    await act(caller, tasks["family-contact"], TaskVerb.COMPLETE)
    await wait_for_status(caller, first, "family-contact", "completed")
    await quiet(runtime)
    await runtime.tasks.put(tasks["family-contact"].task_id, GARBAGE)
    await runtime.tasks.delete(tasks["defusing"].task_id)
    await runtime.incidents.put(first, GARBAGE)
    await runtime.incidents.delete(second)
    await runtime.tasks.put("INC-ZZZZZZZZ.stray", GARBAGE)  # no event ever named it
    await runtime.incidents.put("INC-ZZZZZZZZ", b"{}")
    await runtime.tasks.put("no-task-id", b"{}")

    progress: list[tuple[int, int]] = []
    done = await rebuild(runtime, lambda n, total: progress.append((n, total)))
    rebuilt = await snapshot(runtime)
    assert done.removed >= 3 and done.events == progress[-1][0] == progress[-1][1]
    assert [n for n, _ in progress] == sorted(n for n, _ in progress)
    for stray in ("INC-ZZZZZZZZ.stray", "no-task-id"):
        assert f"{subjects.TASKS_BUCKET}/{stray}" not in rebuilt
    assert f"{subjects.INCIDENTS_BUCKET}/INC-ZZZZZZZZ" not in rebuilt
    assert (
        rebuilt[f"{subjects.TASKS_BUCKET}/{tasks['family-contact'].task_id}"]["task"]["status"]
        == "completed"
    )
    assert rebuilt[f"{subjects.INCIDENTS_BUCKET}/{second}"]["playbook_id"] == "drill-chain"

    before = await writes(runtime)
    again = await rebuild(runtime, lambda n, total: None)
    assert await writes(runtime) == before, "a second rebuild wrote to the buckets"
    assert again.removed == 0 and await snapshot(runtime) == rebuilt

    # A fresh replay: the same stream into empty buckets.
    for bucket in BUCKETS:
        await runtime.js.purge_stream(f"KV_{bucket}")
    await rebuild(runtime, lambda n, total: None)
    assert await snapshot(runtime) == rebuilt


async def test_a_rebuild_while_tasks_move_ends_where_a_fresh_replay_does(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    tasks = await wait_for_tasks(caller, incident_id, 5)
    await quiet(runtime)
    await runtime.tasks.put(tasks["family-contact"].task_id, GARBAGE)

    loop = asyncio.get_running_loop()
    acted: list[float] = []

    async def responders_at_work() -> None:
        for key in ("family-contact", "listening-session", "defusing"):
            for verb in (TaskVerb.ACKNOWLEDGE, TaskVerb.START, TaskVerb.COMPLETE):
                await act(caller, tasks[key], verb)
                acted.append(loop.time())
        await log_incident(caller, "drill-chain")

    working = asyncio.create_task(responders_at_work())
    rebuilding: list[tuple[float, float]] = []
    while not working.done():  # rebuild again and again while the tasks move
        started = loop.time()
        await rebuild(runtime, lambda n, total: None)
        rebuilding.append((started, loop.time()))
    await working
    assert any(start < t < end for t in acted for start, end in rebuilding)
    await wait_for_status(caller, incident_id, "debriefing", "assigned")  # released meanwhile
    await quiet(runtime)
    live = await snapshot(runtime)
    assert live[f"{subjects.TASKS_BUCKET}/{tasks['defusing'].task_id}"]["task"]["status"] == (
        "completed"
    )

    for bucket in BUCKETS:
        await runtime.js.purge_stream(f"KV_{bucket}")
    await rebuild(runtime, lambda n, total: None)
    assert await snapshot(runtime) == live
