"""What the engine does when events happen: trigger, fan out, release, reassign, complete."""

from __future__ import annotations

import asyncio

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.events import (
    IncidentLogged,
    PlaybookTriggered,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
)
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, EventStore, Expect
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.engine import lifecycle, runs
from services.engine.commands import ATTEMPTS, start_run
from services.engine.tasks import append_task_event, load_task

log = get_logger(__name__)

# Appends in flight at once during a fan-out: enough to pipeline a large playbook, few enough
# that a huge one does not flood the server.
FAN_OUT_WINDOW = 64


async def on_incident_logged(rt: Runtime, incident: IncidentLogged) -> None:
    pinned = runs.automatic_playbook(rt.library.values(), incident)
    if pinned is None:
        return
    try:
        await start_run(rt, incident, pinned.playbook.id, how="automatic", actor="engine")
    except Refused as exc:
        # Someone triggered another playbook by hand first; theirs stands.
        log.warning("automatic_trigger_skipped", incident_id=incident.incident_id, reason=exc.code)


async def on_playbook_triggered(rt: Runtime, run: PlaybookTriggered) -> None:
    """Fan out every task of the run at once. A redelivered run re-creates nothing: each
    creation expects an empty task subject, and assignments are deterministic."""
    created = runs.instantiate(run, rt.holders(), utc_now())
    window = asyncio.Semaphore(FAN_OUT_WINDOW)

    async def create(event: TaskCreated) -> None:
        async with window:
            await _create(rt.store, event)

    await asyncio.gather(*(create(event) for event in created))
    log.info("tasks_created", incident_id=run.incident_id, count=len(created))


async def _create(store: EventStore, event: TaskCreated) -> None:
    try:
        await append_task_event(store, event, 0)
    except ConcurrencyConflict:
        return  # created before a crash or by another replica
    task = event.task
    # After a crash mid fan-out a prerequisite may have completed before this task existed.
    if task.depends_on and await _all_completed(store, task.incident_id, task.depends_on):
        await release(store, task.task_id)


async def _all_completed(
    store: EventStore, incident_id: str, keys: tuple[str, ...] | list[str]
) -> bool:
    return await store.all_exist(
        [subjects.task_event(incident_id, key, "completed") for key in keys]
    )


async def release(store: EventStore, task_id: str) -> None:
    for _ in range(ATTEMPTS):
        loaded = await load_task(store, task_id)
        if loaded is None:
            return  # not created yet: its creation will release it
        event = lifecycle.release(loaded.task, utc_now())
        if event is None:
            return
        try:
            await append_task_event(store, event, loaded.seq)
        except ConcurrencyConflict:
            continue
        log.info("task_released", task_id=task_id)
        return
    raise RuntimeError(f"could not release {task_id}")  # redelivered by the consumer


async def on_task_completed(rt: Runtime, event: TaskCompleted) -> None:
    incident_id = event.incident_id
    found = await rt.store.last_of(subjects.playbook_triggered(incident_id), PlaybookTriggered)
    if found is None:
        return
    run = found.event
    for dependent in runs.dependents(run, event.task.key):
        if await _all_completed(rt.store, incident_id, dependent.depends_on):
            await release(rt.store, task_id_for(incident_id, dependent.key))
    if await _all_completed(rt.store, incident_id, runs.required_keys(run)):
        try:
            await rt.store.append(
                subjects.response_completed(incident_id),
                runs.response_completed(run, utc_now()),
                Expect(subjects.response_filter(incident_id), 0),
            )
        except ConcurrencyConflict:
            return
        log.info("response_completed", incident_id=incident_id)


async def on_task_declined(rt: Runtime, event: TaskDeclined) -> None:
    holders = rt.holders()
    for _ in range(ATTEMPTS):
        loaded = await load_task(rt.store, event.task.task_id)
        if loaded is None:
            return
        assigned = lifecycle.reassign(loaded.task, holders.get(loaded.task.role, ()), utc_now())
        if assigned is None:
            if loaded.task.assignee is None:
                log.warning("task_unassigned", task_id=loaded.task.task_id, role=loaded.task.role)
            return
        try:
            await append_task_event(rt.store, assigned, loaded.seq)
        except ConcurrencyConflict:
            continue
        log.info("task_reassigned", task_id=loaded.task.task_id)
        return
    raise RuntimeError(f"could not reassign {event.task.task_id}")
