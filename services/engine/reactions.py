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
    event_verb,
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

# Task creations appended as one atomic batch: all of a 30-task playbook at once, and a huge
# playbook in several batches, so one batch never grows past what the server accepts.
FAN_OUT_BATCH = 64


async def on_incident_logged(rt: Runtime, incident: IncidentLogged) -> None:
    pinned = runs.automatic_playbook(rt.library.values(), incident)
    if pinned is None:
        return
    try:
        run, created = await start_run(
            rt, incident, pinned.playbook.id, how="automatic", actor="engine"
        )
    except Refused as exc:
        # Someone triggered another playbook by hand first; theirs stands.
        log.warning("automatic_trigger_skipped", incident_id=incident.incident_id, reason=exc.code)
        return
    # Fanning out here saves a consumer hop. If this fails or the process dies, the redelivered
    # incident.logged (or the playbook.triggered reaction) finishes the job.
    rt.fanning_out.add(run.incident_id)
    try:
        if created or not await _fanned_out(rt, run):
            await fan_out(rt, run)
        else:
            # Redelivered after a fan-out that failed in its last step: settle what is free.
            await settle(rt, run, [t for t in run.tasks if t.depends_on])
    finally:
        rt.fanning_out.discard(run.incident_id)


async def on_playbook_triggered(rt: Runtime, run: PlaybookTriggered) -> None:
    if run.incident_id in rt.fanning_out:
        return  # this process is fanning it out right now
    if not await _fanned_out(rt, run):
        await fan_out(rt, run)


async def _fanned_out(rt: Runtime, run: PlaybookTriggered) -> bool:
    """Every task exists and every follow-up is scheduled (or has fired): a fan-out that failed
    between its creations and its schedules (a node lost, a crash) is not done."""
    found = [subject.split(".") for subject in await rt.store.subjects(
        subjects.incident_tasks(run.incident_id)
    )]  # fmt: skip
    if not all(template.key in {parts[4] for parts in found} for template in run.tasks):
        return False
    skipped = {parts[4] for parts in found if parts[5] == "skipped"}
    wanted = {runs.follow_up_key(d.parent_key, d.number) for d in runs.follow_ups_due(run, skipped)}
    if not wanted:
        return True
    timers = await rt.store.subjects(
        subjects.incident_follow_up_timers(run.incident_id), stream=subjects.TIMERS_STREAM
    )
    return wanted <= {subject.split(".")[4] for subject in timers}


async def fan_out(rt: Runtime, run: PlaybookTriggered) -> None:
    """Create every task of the run, schedule its follow-ups, then release what is already
    free. Running it again re-creates nothing: each creation expects an empty task subject,
    and assignments are deterministic."""
    events = runs.instantiate(run, rt.roster, utc_now())
    for start in range(0, len(events), FAN_OUT_BATCH):
        await _create_all(rt.store, events[start : start + FAN_OUT_BATCH])
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


async def _create_all(store: EventStore, events: list[TaskCreated | TaskSkipped]) -> None:
    """One atomic batch; if some already exist (a crash, another replica), one by one."""
    try:
        await store.append_batch([_creation(event) for event in events])
    except ConcurrencyConflict:

        async def create(event: TaskCreated | TaskSkipped) -> None:
            with contextlib.suppress(ConcurrencyConflict):
                await append_task_event(store, event, 0)

        await asyncio.gather(*(create(event) for event in events))


def _creation(event: TaskCreated | TaskSkipped) -> tuple[str, TaskCreated | TaskSkipped, Expect]:
    task = event.task
    return (
        subjects.task_event(task.incident_id, task.key, event_verb(event)),
        event,
        Expect(subjects.task_filter(task.incident_id, task.key), 0),
    )


def _follow_up_schedule(due: FollowUpDue) -> str:
    return subjects.follow_up_schedule(
        due.incident_id, runs.follow_up_key(due.parent_key, due.number)
    )


def _follow_up_target(due: FollowUpDue) -> str:
    return subjects.follow_up_timer(due.incident_id, runs.follow_up_key(due.parent_key, due.number))


async def _statuses(
    store: EventStore, incident_id: str, keys: Iterable[str]
) -> dict[str, LoadedTask | None]:
    keys = list(keys)
    loaded = await asyncio.gather(*(load_task(store, task_id_for(incident_id, k)) for k in keys))
    return dict(zip(keys, loaded, strict=True))


async def _satisfied_keys(rt: Runtime, incident_id: str) -> set[str]:
    """Keys of the incident's tasks that completed or were skipped: one request, however many
    tasks the run has."""
    found = await rt.store.subjects(subjects.incident_tasks(incident_id))
    return {
        parts[4]
        for parts in (subject.split(".") for subject in found)
        if parts[5] in ("completed", "skipped")
    }


async def settle(rt: Runtime, run: PlaybookTriggered, candidates: list[TaskTemplate]) -> None:
    """Release each candidate whose prerequisites are all done, and complete the response once
    every required task is. The last completion to land always sees all the others."""
    done = await _satisfied_keys(rt, run.incident_id)

    def satisfied(key: str) -> bool:
        return key in done

    for template in candidates:
        if all(satisfied(k) for k in template.depends_on):
            states = await _statuses(rt.store, run.incident_id, template.depends_on)
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
    # A run never changes once triggered, so it is read from the stream once per process.
    run = rt.runs.get(incident_id)
    if run is None:
        found = await rt.store.last_of(subjects.playbook_triggered(incident_id), PlaybookTriggered)
        if found is None:
            return None
        run = rt.remember_run(found.event)
    return run


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


async def on_follow_up_timer(rt: Runtime, due: FollowUpDue) -> None:
    """A follow-up's schedule fired in the timers stream: record that it came due, once."""
    key = runs.follow_up_key(due.parent_key, due.number)
    with contextlib.suppress(ConcurrencyConflict):
        await rt.store.append(
            subjects.follow_up_due(due.incident_id, key),
            due,
            Expect(subjects.follow_up_filter(due.incident_id, key), 0),
        )


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
