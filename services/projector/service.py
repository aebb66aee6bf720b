"""Keeps the task and incident projections current.

The stream is the truth; these buckets are caches for queries and can be rebuilt by replaying
it. Each write is a compare-and-swap on the bucket revision, and a task record only moves
forward in stream order, so redelivered or reordered events never roll a record back.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from functools import partial

from faststream.nats import NatsRouter
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from schemas import subjects
from schemas.events import ANY_EVENT, AnyEvent, IncidentLogged, TaskEvent
from schemas.views import IncidentSummary, TaskRecord
from services.core.logging import get_logger
from services.core.reactors import consume
from services.core.runtime import Runtime
from services.projector.indexing import IncidentRanks, index_incident, index_task, reindex_task

log = get_logger(__name__)
DURABLE = "projector"
ATTEMPTS = 10


class MissingIncident(Exception):
    """An incident event arrived before the incident itself; redelivery will retry it."""


async def _compare_and_swap(
    bucket: KeyValue, key: str, change: Callable[[bytes | None], bytes | None]
) -> int | None:
    """Apply `change` to the key's value; returns the new revision, None if nothing changed."""
    for _ in range(ATTEMPTS):
        try:
            entry = await bucket.get(key)
            current, revision = entry.value, entry.revision
        except KeyNotFoundError:
            current, revision = None, 0
        updated = change(current)
        if updated is None:
            return None
        try:
            if revision:
                return await bucket.update(key, updated, last=revision)
            return await bucket.create(key, updated)
        except KeyWrongLastSequenceError:
            continue
    raise RuntimeError(f"projection of {key} kept conflicting")


def _advance_task(record: TaskRecord, current: TaskRecord | None) -> bytes | None:
    if current is not None and current.seq >= record.seq:
        return None
    return record.model_dump_json().encode()


def _fold_incident(event: AnyEvent, current: bytes | None) -> bytes | None:
    if isinstance(event, IncidentLogged):
        return None if current else IncidentSummary.from_logged(event).model_dump_json().encode()
    if current is None:
        raise MissingIncident(event.incident_id)
    return IncidentSummary.model_validate_json(current).after(event).model_dump_json().encode()


class TaskRevisions:
    """The bucket revision and stream sequence this process last wrote for each task, so the
    next write is a compare-and-swap straight away instead of a read first. A stale entry only
    costs a refused swap and a fresh read."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, int, str | None]] = {}
        self.ranks = IncidentRanks()

    def get(self, key: str) -> tuple[int, int, str | None] | None:
        return self._known.get(key)

    def remember(self, key: str, revision: int, record: TaskRecord) -> None:
        if len(self._known) >= self.LIMIT:
            self._known.clear()
        self._known[key] = (revision, record.seq, record.task.assignee)

    def forget(self, key: str) -> None:
        self._known.pop(key, None)


class Unchanged(Enum):
    AHEAD = "ahead"  # the record is already past this event
    SAME = "same"  # the record is this event: a redelivery


async def _project_task(
    bucket: KeyValue, revisions: TaskRevisions, record: TaskRecord
) -> str | None | Unchanged:
    """Advance the task's record; the assignee of the version it replaced, or why not."""
    key = record.task.task_id
    known = revisions.get(key)
    if known is not None:
        revision, last_seq, before = known
        if last_seq >= record.seq:
            return Unchanged.SAME if last_seq == record.seq else Unchanged.AHEAD
        try:
            written = await bucket.update(key, record.model_dump_json().encode(), last=revision)
            revisions.remember(key, written, record)
            return before
        except KeyWrongLastSequenceError:
            revisions.forget(key)
    seen: list[TaskRecord | None] = [None]

    def advance(current: bytes | None) -> bytes | None:
        seen[0] = TaskRecord.model_validate_json(current) if current is not None else None
        return _advance_task(record, seen[0])

    swapped = await _compare_and_swap(bucket, key, advance)
    previous = seen[0]
    if swapped is None:
        return (
            Unchanged.SAME
            if previous is not None and previous.seq == record.seq
            else (Unchanged.AHEAD)
        )
    revisions.remember(key, swapped, record)
    return previous.task.assignee if previous is not None else None


async def _project_task_and_index(
    rt: Runtime, revisions: TaskRevisions, record: TaskRecord
) -> None:
    before = await _project_task(rt.tasks, revisions, record)
    if before is Unchanged.SAME:
        await reindex_task(rt, revisions.ranks, record)
    elif before is not Unchanged.AHEAD:
        await index_task(rt, revisions.ranks, record, before)


async def project(rt: Runtime, revisions: TaskRevisions, body: bytes, seq: int) -> None:
    try:
        event = ANY_EVENT.validate_json(body)
    except ValidationError:
        log.error("event_unreadable", consumer=DURABLE, seq=seq)
        return
    if isinstance(event, TaskEvent):
        await _project_task_and_index(rt, revisions, TaskRecord(seq=seq, task=event.task))
        return
    if isinstance(event, IncidentLogged):
        await _compare_and_swap(rt.incidents, event.incident_id, partial(_fold_incident, event))
        await index_incident(rt, revisions.ranks, event)
    else:
        try:
            await _compare_and_swap(rt.incidents, event.incident_id, partial(_fold_incident, event))
        except MissingIncident:
            found = await rt.store.last_of(
                subjects.incident_logged(event.incident_id), IncidentLogged
            )
            if found is None:
                raise
            await _compare_and_swap(
                rt.incidents, event.incident_id, partial(_fold_incident, found.event)
            )
            await _compare_and_swap(rt.incidents, event.incident_id, partial(_fold_incident, event))


def build(rt: Runtime) -> NatsRouter:
    router = NatsRouter()
    consume(
        router,
        subjects.EVENTS_ALL,
        DURABLE,
        partial(project, rt, TaskRevisions()),
        max_workers=8,
        batch_size=64,
        ack_wait=rt.settings.ack_wait_seconds,
    )
    return router
