"""What the engine does when events happen: trigger, fan out, release, reassign, follow up,
complete. Every reaction is idempotent: a redelivery repeats nothing that already happened."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import datetime

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.enums import TaskStatus
from schemas.events import (
    FollowUpDue,
    IncidentLogged,
    PlaybookTriggered,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
    TaskSkipped,
)
from schemas.tasks import TaskTemplate
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, EventStore, Expect
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.engine import lifecycle, runs
from services.engine.assignment import eligible
from services.engine.commands import ATTEMPTS, start_run
from services.engine.tasks import LoadedTask, append_task_event, load_task

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
    """Fan out every task of the run at once, schedule its follow-ups, then release what is
    already free. A redelivered run re-creates nothing: each creation expects an empty task
    subject, and assignments are deterministic."""
    events = runs.instantiate(run, rt.roster, utc_now())
    window = asyncio.Semaphore(FAN_OUT_WINDOW)

    async def create(event: TaskCreated | TaskSkipped) -> None:
        async with window:
            # A conflict means it was created before a crash, or by another replica.
            with contextlib.suppress(ConcurrencyConflict):
                await append_task_event(rt.store, event, 0)

    await asyncio.gather(*(create(event) for event in events))
    skipped = {e.task.key for e in events if isinstance(e, TaskSkipped)}
    for due in runs.follow_ups_due(run, skipped):
        await rt.store.schedule(_follow_up_schedule(due), _follow_up_target(due), due.due_at, due)
    log.info(
        "tasks_created",
        incident_id=run.incident_id,
        count=len(events) - len(skipped),
        skipped=len(skipped),
    )
    # Prerequisites may have been skipped, or (after a crash) completed before a task existed.
    await settle(rt, run, [t for t in run.tasks if t.depends_on])


def _follow_up_schedule(due: FollowUpDue) -> str:
    return subjects.follow_up_schedule(
        due.incident_id, runs.follow_up_key(due.parent_key, due.number)
    )


def _follow_up_target(due: FollowUpDue) -> str:
    return subjects.follow_up_due(due.incident_id, runs.follow_up_key(due.parent_key, due.number))


async def _statuses(
    store: EventStore, incident_id: str, keys: Iterable[str]
) -> dict[str, LoadedTask | None]:
    keys = list(keys)
    loaded = await asyncio.gather(*(load_task(store, task_id_for(incident_id, k)) for k in keys))
    return dict(zip(keys, loaded, strict=True))


async def settle(rt: Runtime, run: PlaybookTriggered, candidates: list[TaskTemplate]) -> None:
    """Release each candidate whose prerequisites are all done, and complete the response once
    every required task is. The last completion to land always sees all the others."""
    needed = {k for t in candidates for k in t.depends_on} | set(runs.required_keys(run))
    states = await _statuses(rt.store, run.incident_id, needed)

    def satisfied(key: str) -> bool:
        state = states.get(key)
        return state is not None and state.task.status in runs.SATISFIED

    for template in candidates:
        if all(satisfied(k) for k in template.depends_on):
            finished = [s.at for k in template.depends_on if (s := states[k]) is not None]
            await release(rt.store, run, template, max(finished) if finished else None)
    if all(satisfied(k) for k in runs.required_keys(run)):
        try:
            await rt.store.append(
                subjects.response_completed(run.incident_id),
                runs.response_completed(run, utc_now()),
                Expect(subjects.response_filter(run.incident_id), 0),
            )
        except ConcurrencyConflict:
            return
        log.info("response_completed", incident_id=run.incident_id)


async def release(
    store: EventStore,
    run: PlaybookTriggered,
    template: TaskTemplate,
    prerequisites_done_at: datetime | None,
) -> None:
    task_id = task_id_for(run.incident_id, template.key)
    deadlines = runs.deadlines(run, template, prerequisites_done_at)
    for _ in range(ATTEMPTS):
        loaded = await load_task(store, task_id)
        if loaded is None:
            return  # not created yet: the fan-out settles it when it is
        event = lifecycle.release(loaded.task, utc_now(), deadlines)
        if event is None:
            return
        try:
            await append_task_event(store, event, loaded.seq)
        except ConcurrencyConflict:
            continue
        log.info("task_released", task_id=task_id)
        return
    raise RuntimeError(f"could not release {task_id}")  # redelivered by the consumer


async def _run_of(rt: Runtime, incident_id: str) -> PlaybookTriggered | None:
    found = await rt.store.last_of(subjects.playbook_triggered(incident_id), PlaybookTriggered)
    return found.event if found else None


async def on_task_completed(rt: Runtime, event: TaskCompleted) -> None:
    run = await _run_of(rt, event.incident_id)
    if run is not None:
        await settle(rt, run, runs.dependents(run, event.task.key))


async def on_task_declined(rt: Runtime, event: TaskDeclined) -> None:
    run = await _run_of(rt, event.incident_id)
    key = event.task.follow_up_of or event.task.key
    template = runs.template_of(run, key) if run else None
    for _ in range(ATTEMPTS):
        loaded = await load_task(rt.store, event.task.task_id)
        if loaded is None or run is None or template is None:
            return
        people = eligible(
            rt.roster, loaded.task.role, template.assignee, run.attributes, run.involved
        )
        assigned = lifecycle.reassign(loaded.task, people, utc_now())
        if assigned is None:
            if loaded.task.status is TaskStatus.UNASSIGNED:
                log.warning("task_unassigned", task_id=loaded.task.task_id, role=loaded.task.role)
            return
        try:
            await append_task_event(rt.store, assigned, loaded.seq)
        except ConcurrencyConflict:
            continue
        log.info("task_reassigned", task_id=loaded.task.task_id)
        return
    raise RuntimeError(f"could not reassign {event.task.task_id}")


async def on_follow_up_due(rt: Runtime, due: FollowUpDue) -> None:
    run = await _run_of(rt, due.incident_id)
    if run is None:
        return
    parent = await load_task(rt.store, task_id_for(due.incident_id, due.parent_key))
    created = runs.follow_up_task(run, due, parent.task if parent else None, rt.roster, utc_now())
    if created is None:
        return
    try:
        await append_task_event(rt.store, created, 0)
    except ConcurrencyConflict:
        return
    log.info("follow_up_created", task_id=created.task.task_id)
