"""Releasing tasks whose prerequisites are done, and recording the response complete. Both are
decided from the stream, so running them again, from any replica, changes nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.events import PlaybookTriggered, ResponseCompleted
from schemas.tasks import TaskTemplate
from services.core.eventstore import ConcurrencyConflict, EventStore, Expect
from services.core.failpoints import failpoint
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.engine import lifecycle, runs
from services.engine.commands import ATTEMPTS
from services.engine.runstate import is_current
from services.engine.tasks import LoadedTask, append_task_event, load_task

log = get_logger(__name__)


async def _statuses(
    store: EventStore, incident_id: str, keys: Iterable[str]
) -> dict[str, LoadedTask | None]:
    keys = list(keys)
    loaded = await asyncio.gather(*(load_task(store, task_id_for(incident_id, k)) for k in keys))
    return dict(zip(keys, loaded, strict=True))


async def satisfied_keys(rt: Runtime, incident_id: str) -> set[str]:
    """Keys of the incident's tasks that completed or were skipped: one request, however many
    tasks the run has."""
    found = await rt.store.subjects(subjects.incident_tasks(incident_id))
    return {
        parts[4]
        for parts in (subject.split(".") for subject in found)
        if parts[5] in ("completed", "skipped")
    }


def waiting_templates(run: PlaybookTriggered) -> list[TaskTemplate]:
    return [t for t in run.tasks if t.depends_on]


async def settle(rt: Runtime, run: PlaybookTriggered, candidates: list[TaskTemplate]) -> None:
    """Release each candidate whose prerequisites are all done, and complete the response once
    every required task is. The last completion to land always sees all the others."""
    done = await satisfied_keys(rt, run.incident_id)
    for template in candidates:
        if all(k in done for k in template.depends_on):
            states = await _statuses(rt.store, run.incident_id, template.depends_on)
            finished = [s.at for k in template.depends_on if (s := states[k]) is not None]
            await release(rt.store, run, template, max(finished) if finished else None)
    if all(k in done for k in runs.required_keys(run)):
        await complete_response(rt, run)


# A failpoint just before the response is recorded complete (see services.core.failpoints).
BEFORE_COMPLETION = "response.before-completion"


async def complete_response(rt: Runtime, run: PlaybookTriggered) -> None:
    """Record the run's response complete, once, and only while the run is current (a
    cancelled run completes nothing; an earlier run's completion may precede this one)."""
    if not await is_current(rt, run):
        return
    last = await rt.store.last_of(subjects.response_completed(run.incident_id), ResponseCompleted)
    if last is not None and last.event.run == run.run:
        return
    failpoint(rt.settings, BEFORE_COMPLETION)
    try:
        await rt.store.append(
            subjects.response_completed(run.incident_id),
            runs.response_completed(run, utc_now()),
            Expect(subjects.response_filter(run.incident_id), last.seq if last else 0),
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
