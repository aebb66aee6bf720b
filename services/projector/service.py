"""Keeps the task, incident and metrics projections current.

The stream is the truth; these buckets are caches for queries and are rebuilt by replaying it
(`pathways admin rebuild`). Each write is a compare-and-swap on the bucket revision, and a task
record only moves forward in stream order, so redelivered or reordered events never roll a
record back. A record that cannot be read is overwritten, a deleted one written again.
"""

from __future__ import annotations

from enum import Enum
from functools import partial

from faststream.nats import NatsRouter
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas import subjects
from schemas.events import AnyEvent, IncidentLogged, NoticeEvent, RecordSealed, TaskEvent
from schemas.evolution import UnreadableEvent, read_event, task_snapshot_of
from schemas.views import IncidentSummary, TaskRecord
from services.core import indexes
from services.core.errors import Unprocessable
from services.core.eventstore import EventStore
from services.core.logging import get_logger
from services.core.projections import readable
from services.core.reactors import consume
from services.core.runtime import Runtime
from services.projector.indexing import IncidentRanks, index_incident, index_task, reindex_task
from services.projector.metrics import MetricsFacts, project_metrics
from services.projector.swaps import compare_and_swap as _compare_and_swap

log = get_logger(__name__)
DURABLE = "projector"


class MissingIncident(Exception):
    """An incident event arrived before the incident itself; redelivery will retry it."""


def _advance_task(record: TaskRecord, current: TaskRecord | None) -> bytes | None:
    if current is not None and current.seq >= record.seq:
        return None
    return record.model_dump_json().encode()


def _fold_incident(event: AnyEvent, current: bytes | None) -> bytes | None:
    summary = readable(IncidentSummary, current)
    if summary is None:
        raise MissingIncident(event.incident_id)
    return summary.after(event).model_dump_json().encode()


def _restore_incident(
    restored: IncidentSummary, event: AnyEvent, current: bytes | None
) -> bytes | None:
    summary = readable(IncidentSummary, current) or restored
    return summary.after(event).model_dump_json().encode()


async def _incident_from_stream(store: EventStore, incident_id: str) -> IncidentSummary:
    """The summary as a replay gives it: it depends only on these events."""
    logged = await store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
    if logged is None:
        raise MissingIncident(incident_id)
    summary = IncidentSummary.from_logged(logged.event)
    for subject in (
        subjects.playbook_triggered(incident_id),
        subjects.playbook_cancelled(incident_id),
        subjects.response_completed(incident_id),
        subjects.incident_closed(incident_id),
    ):
        found = await store.last(subject)
        if found is not None:
            summary = summary.after(found.event)
    return summary


class TaskRevisions:
    """The bucket revision and stream sequence this process last wrote for each task, so the
    next write is a compare-and-swap straight away instead of a read first. A stale entry only
    costs a refused swap and a fresh read."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, int, str | None]] = {}
        self.ranks = IncidentRanks()
        self.facts = MetricsFacts()

    def get(self, key: str) -> tuple[int, int, str | None] | None:
        return self._known.get(key)

    def remember(self, key: str, revision: int, record: TaskRecord) -> None:
        if len(self._known) >= self.LIMIT:
            self._known.clear()
        self._known[key] = (revision, record.seq, indexes.holder(record.task))

    def forget(self, key: str) -> None:
        self._known.pop(key, None)


class Unchanged(Enum):
    AHEAD = "ahead"  # the record is already past this event
    SAME = "same"  # the record is this event: a redelivery


async def _project_task(
    bucket: KeyValue, revisions: TaskRevisions, record: TaskRecord
) -> str | None | Unchanged:
    """Advance the task's record; the holder of the version it replaced, or why not."""
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
        # A record that cannot be read (garbage bytes, a shape no version wrote) counts as
        # absent and is overwritten: the stream has the truth.
        seen[0] = readable(TaskRecord, current)
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
    return indexes.holder(previous.task) if previous is not None else None


async def _project_task_and_index(
    rt: Runtime, revisions: TaskRevisions, record: TaskRecord
) -> None:
    before = await _project_task(rt.tasks, revisions, record)
    if before is Unchanged.SAME:
        await reindex_task(rt, revisions.ranks, record)
    elif before is not Unchanged.AHEAD:
        await index_task(rt, revisions.ranks, record, before)


async def project(rt: Runtime, revisions: TaskRevisions, body: bytes, seq: int) -> None:
    """Bring the projections up to date with one event. Replaying any part of the stream
    through it again changes nothing (the rebuild relies on it)."""
    try:
        event = read_event(body)
    except UnreadableEvent as exc:
        await _project_unreadable(rt, revisions, exc, seq)
        return
    if isinstance(event, TaskEvent):
        await _project_task_and_index(rt, revisions, TaskRecord(seq=seq, task=event.task))
        await project_metrics(rt, revisions.facts, event, seq)
        return
    if isinstance(event, NoticeEvent | RecordSealed):
        return  # a delivery record, a periodic seal: neither changes a task or an incident
    try:
        await _compare_and_swap(rt.incidents, event.incident_id, partial(_fold_incident, event))
    except MissingIncident:
        # Not projected yet, deleted, or unreadable: restore it from the stream.
        restored = await _incident_from_stream(rt.store, event.incident_id)
        await _compare_and_swap(
            rt.incidents, event.incident_id, partial(_restore_incident, restored, event)
        )
    if isinstance(event, IncidentLogged):
        await index_incident(rt, revisions.ranks, event)
    await project_metrics(rt, revisions.facts, event, seq)


async def _project_unreadable(
    rt: Runtime, revisions: TaskRevisions, exc: UnreadableEvent, seq: int
) -> None:
    """A task event of a kind this version does not know still carries the whole task after
    it: the record follows it, so lists stay current in a rolling upgrade. Anything else is
    unprocessable here (it goes to the dead letters); it holds up no other event."""
    snapshot = task_snapshot_of(exc)
    if snapshot is None:
        log.error("event_unreadable", consumer=DURABLE, seq=seq, event_type=exc.event_type)
        raise Unprocessable(f"seq {seq}: {exc}")
    log.warning("event_type_unknown_task_projected", seq=seq, event_type=exc.event_type)
    await _project_task_and_index(rt, revisions, TaskRecord(seq=seq, task=snapshot))


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
