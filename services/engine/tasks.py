"""Loading a task from the stream and appending its next event, with the concurrency check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas import subjects
from schemas.base import split_task_id
from schemas.commands import ErrorCode
from schemas.events import AnyTaskEvent, PlaybookTriggered, event_verb
from schemas.tasks import TaskSnapshot
from services.core.errors import Refused
from services.core.eventstore import EventStore, Expect
from services.core.runtime import Runtime


@dataclass(frozen=True)
class LoadedTask:
    task: TaskSnapshot
    seq: int  # stream sequence of the task's last event: the version an append must expect
    at: datetime  # when that event happened


async def load_task(store: EventStore, task_id: str) -> LoadedTask | None:
    incident_id, key = split_task_id(task_id)
    found = await store.last(subjects.task_filter(incident_id, key))
    if found is None or not isinstance(found.event, AnyTaskEvent):
        return None
    return LoadedTask(found.event.task, found.seq, found.event.at)


async def require_task(store: EventStore, task_id: str) -> LoadedTask:
    loaded = await load_task(store, task_id)
    if loaded is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no task {task_id}")
    return loaded


async def append_task_event(store: EventStore, event: AnyTaskEvent, expected_seq: int) -> int:
    """Raises ConcurrencyConflict if the task moved since `expected_seq`."""
    task = event.task
    return await store.append(
        subjects.task_event(task.incident_id, task.key, event_verb(event)),
        event,
        Expect(subjects.task_filter(task.incident_id, task.key), expected_seq),
    )


async def load_run(
    rt: Runtime, incident_id: str, number: int | None = None
) -> PlaybookTriggered | None:
    """Run `number` of the incident's playbook (a task's or timer's `run`), or its latest run.
    A run never changes once triggered, so a numbered one is read once per process; whether it
    is still current is for the caller to ask (services.engine.runstate)."""
    if number is not None and (cached := rt.runs.get((incident_id, number))) is not None:
        return cached
    found = await rt.store.last_of(subjects.playbook_triggered(incident_id), PlaybookTriggered)
    if found is None:
        return None
    if number is None or found.event.run == number:
        return rt.remember_run(found.event)
    # An earlier run, replaced after it was cancelled: one of a few triggers of the incident.
    for stored in await rt.store.read(subjects.playbook_triggered(incident_id)):
        if isinstance(stored.event, PlaybookTriggered) and stored.event.run == number:
            return rt.remember_run(stored.event)
    return None
