"""Checks that a playbook run is whole, read straight from the streams: every task created or
skipped exactly once, every follow-up scheduled, nothing waiting on prerequisites that are done,
the run recorded in place — and that its response can be driven to completion."""

from __future__ import annotations

import asyncio
import uuid

from nats.aio.client import Client
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.commands import ActOnTask, Reply, TaskVerb
from schemas.enums import TaskStatus, Tier
from schemas.events import ANY_EVENT, PlaybookTriggered, TaskEvent
from schemas.tasks import TaskSnapshot
from services.engine import runs
from tests.support import principal_for, raw_request

OPEN = (TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS)
DONE = (TaskStatus.COMPLETED, TaskStatus.SKIPPED)


async def _subjects(nc: Client, stream: str, subject_filter: str) -> dict[str, int]:
    info = await nc.jetstream().stream_info(stream, subjects_filter=subject_filter)
    return dict(info.state.subjects or {})


async def load_run(nc: Client, incident_id: str) -> PlaybookTriggered | None:
    try:
        msg = await nc.jetstream().get_msg(
            subjects.EVENTS_STREAM, subject=subjects.playbook_triggered(incident_id), direct=True
        )
    except NotFoundError:
        return None
    assert msg.data is not None
    return PlaybookTriggered.model_validate_json(msg.data)


async def tasks_of(nc: Client, run: PlaybookTriggered) -> dict[str, TaskSnapshot]:
    """The current snapshot of each of the run's tasks that exists."""
    found: dict[str, TaskSnapshot] = {}
    for template in run.tasks:
        try:
            msg = await nc.jetstream().get_msg(
                subjects.EVENTS_STREAM,
                subject=subjects.task_filter(run.incident_id, template.key),
                direct=True,
            )
        except NotFoundError:
            continue
        assert msg.data is not None
        event = ANY_EVENT.validate_json(msg.data)
        assert isinstance(event, TaskEvent)
        found[template.key] = event.task
    return found


async def in_place(nc: Client, incident_id: str) -> bool:
    found = await _subjects(nc, subjects.EVENTS_STREAM, subjects.run_in_place(incident_id))
    return bool(found)


async def problems(nc: Client, incident_id: str) -> list[str]:
    """What is wrong with the incident's run; empty when it is whole."""
    run = await load_run(nc, incident_id)
    if run is None:
        return [f"{incident_id}: no playbook run"]
    wrong: list[str] = []
    creations = await _subjects(nc, subjects.EVENTS_STREAM, f"pw.evt.{incident_id}.task.*.*")
    for template in run.tasks:
        made = [
            creations.get(subjects.task_event(incident_id, template.key, verb), 0)
            for verb in ("created", "skipped")
        ]
        if sum(made) != 1:
            wrong.append(f"{template.key}: created/skipped {made}")
    tasks = await tasks_of(nc, run)
    skipped = {k for k, t in tasks.items() if t.status is TaskStatus.SKIPPED}
    for key, task in tasks.items():
        prerequisites = [tasks.get(k) for k in task.depends_on]
        free = all(p is not None and p.status in DONE for p in prerequisites)
        if task.status is TaskStatus.WAITING and free:
            wrong.append(f"{key}: waiting although its prerequisites are done")
    expected = {
        subjects.follow_up_schedule(incident_id, runs.follow_up_key(d.parent_key, d.number))
        for d in runs.follow_ups_due(run, skipped)
    }
    pending = await _subjects(nc, subjects.TIMERS_STREAM, f"pw.sched.{incident_id}.followup.*")
    if set(pending) != expected:
        wrong.append(f"follow-ups: missing {sorted(expected - set(pending))}")
    if not await in_place(nc, incident_id):
        wrong.append("not recorded in place")
    return [f"{incident_id}: {w}" for w in wrong]


async def complete_everything(nc: Client, incident_id: str, timeout: float = 30.0) -> None:
    """Complete every open task, as its assignee, until the response is recorded complete."""
    run = await load_run(nc, incident_id)
    assert run is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await _subjects(nc, subjects.EVENTS_STREAM, subjects.response_completed(incident_id)):
        assert loop.time() < deadline, f"{incident_id}: response not complete in {timeout:g}s"
        for task in (await tasks_of(nc, run)).values():
            assert task.status is not TaskStatus.UNASSIGNED, f"{task.task_id} has nobody"
            if task.status in OPEN and task.assignee:
                await _complete(nc, task)
        await asyncio.sleep(0.1)


async def _complete(nc: Client, task: TaskSnapshot) -> None:
    assert task.assignee is not None
    command = ActOnTask(
        request_id=uuid.uuid4().hex,
        actor=task.assignee,
        verb=TaskVerb.COMPLETE,
        task_id=task.task_id,
        # Restricted text must be sealed by its author's client; a plain note is for the rest.
        note=None if task.tier is Tier.RESTRICTED else "done",
    )
    body = command.model_dump_json().encode()
    msg = await raw_request(nc, subjects.CMD_TASK_ACT, body, principal_for(command))
    reply = Reply.model_validate_json(msg.data)
    assert reply.ok or (reply.error and reply.error.code == "invalid_transition"), reply
