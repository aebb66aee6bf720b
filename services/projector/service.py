"""Keeps the task and incident projections current.

The stream is the truth; these buckets are caches for queries and can be rebuilt by replaying
it. Each write is a compare-and-swap on the bucket revision, and a task record only moves
forward in stream order, so redelivered or reordered events never roll a record back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from faststream.nats import NatsRouter
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from schemas import subjects
from schemas.events import ANY_EVENT, AnyEvent, IncidentLogged, TaskEvent
from schemas.views import IncidentSummary, TaskRecord
from services.core.errors import Unprocessable
from services.core.logging import get_logger
from services.core.reactors import consume
from services.core.retries import error_text
from services.core.runtime import Runtime

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


def _advance_task(record: TaskRecord, current: bytes | None) -> bytes | None:
    if current is not None and TaskRecord.model_validate_json(current).seq >= record.seq:
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
        self._known: dict[str, tuple[int, int]] = {}

    def get(self, key: str) -> tuple[int, int] | None:
        return self._known.get(key)

    def remember(self, key: str, revision: int, seq: int) -> None:
        if len(self._known) >= self.LIMIT:
            self._known.clear()
        self._known[key] = (revision, seq)

    def forget(self, key: str) -> None:
        self._known.pop(key, None)


async def _project_task(bucket: KeyValue, revisions: TaskRevisions, record: TaskRecord) -> None:
    key = record.task.task_id
    known = revisions.get(key)
    if known is not None:
        revision, last_seq = known
        if last_seq >= record.seq:
            return
        try:
            written = await bucket.update(key, record.model_dump_json().encode(), last=revision)
            revisions.remember(key, written, record.seq)
            return
        except KeyWrongLastSequenceError:
            revisions.forget(key)
    swapped = await _compare_and_swap(bucket, key, partial(_advance_task, record))
    if swapped is not None:
        revisions.remember(key, swapped, record.seq)


async def project(rt: Runtime, revisions: TaskRevisions, body: bytes, seq: int) -> None:
    try:
        event = ANY_EVENT.validate_json(body)
    except ValidationError as exc:
        raise Unprocessable(f"does not parse as an event: {error_text(exc)}") from None
    if isinstance(event, TaskEvent):
        await _project_task(rt.tasks, revisions, TaskRecord(seq=seq, task=event.task))
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
