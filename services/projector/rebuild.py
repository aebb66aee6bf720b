"""Rebuilding every projection by replaying the event stream through the projector's own
per-event function, so whatever the projector maintains is rebuilt the same way.

Safe while the services run: the projector's writes are compare-and-swaps and a task record only
moves forward in stream order, so a replayed older event never rolls a record back, and a record
that cannot be read is overwritten. Idempotent: a replay over current projections writes nothing.
It ends with every record equal to what a replay into empty buckets gives: records the stream
knows nothing of (up to where the rebuild started) are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.base import INCIDENT_ID_PATTERN, TASK_ID_PATTERN, split_task_id
from services.core.errors import Unprocessable
from services.core.logging import get_logger
from services.core.projections import entries
from services.core.runtime import Runtime
from services.projector.service import TaskRevisions, project

log = get_logger(__name__)

FETCH_SIZE = 256
IN_FLIGHT = 32  # records projected at once; their order does not matter to the result
READER_IDLE_SECONDS = 30.0

Progress = Callable[[int, int], None]
_TASK_ID = re.compile(TASK_ID_PATTERN)
_INCIDENT_ID = re.compile(INCIDENT_ID_PATTERN)


@dataclass
class Rebuilt:
    events: int = 0
    unprocessable: int = 0
    removed: int = 0
    seconds: float = 0.0
    tasks: set[str] = field(default_factory=set, repr=False)
    incidents: set[str] = field(default_factory=set, repr=False)

    def saw(self, subject: str) -> None:
        tokens = subject.split(".")  # pw.evt.<incident>.<kind>[.<key>.<verb>]
        self.incidents.add(tokens[2])
        if tokens[3] == "task" and len(tokens) > 4:
            self.tasks.add(f"{tokens[2]}.{tokens[4]}")


async def rebuild(rt: Runtime, progress: Progress) -> Rebuilt:
    """Replay every event stored when the rebuild starts; `progress(done, total)` after each
    batch."""
    started = time.monotonic()
    state = (await rt.js.stream_info(subjects.EVENTS_STREAM)).state
    result = Rebuilt()
    total = state.messages
    progress(0, total)
    if total:
        await _replay(rt, state.last_seq, total, result, progress)
    result.removed = await _remove_strays(rt, result)
    result.seconds = time.monotonic() - started
    return result


async def _replay(
    rt: Runtime, last_seq: int, total: int, result: Rebuilt, progress: Progress
) -> None:
    revisions = TaskRevisions()
    sub = await rt.js.pull_subscribe(
        subjects.EVENTS_ALL,
        stream=subjects.EVENTS_STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=READER_IDLE_SECONDS,
            mem_storage=True,
        ),
    )
    name = (await sub.consumer_info()).name
    try:
        done = False
        while not done:
            try:
                batch = await sub.fetch(FETCH_SIZE, timeout=5.0)
            except TimeoutError:
                break  # nothing left (the stream was purged meanwhile)
            wanted = [m for m in batch if m.metadata.sequence.stream <= last_seq]
            done = not batch or len(wanted) < len(batch) or batch[-1].metadata.num_pending == 0
            await _project_batch(rt, revisions, wanted, result)
            result.events += len(wanted)
            progress(min(result.events, total), total)
            done = done or (bool(wanted) and wanted[-1].metadata.sequence.stream >= last_seq)
    finally:
        await sub.unsubscribe()
        with contextlib.suppress(NotFoundError):
            await rt.js.delete_consumer(subjects.EVENTS_STREAM, name)


async def _project_batch(
    rt: Runtime, revisions: TaskRevisions, batch: list[Msg], result: Rebuilt
) -> None:
    """Project a batch: the events of one task (or incident) one at a time, newest first, and
    different records at once. Events of one record at once would only make each other's swaps
    conflict; newest first, the older ones find the record already past them and write nothing
    (the projector accepts events in any order: redeliveries reorder them anyway)."""
    groups: dict[str, list[Msg]] = defaultdict(list)
    for message in batch:
        groups[_record_of(message.subject)].append(message)
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def newest_first(messages: list[Msg]) -> None:
        async with slots:
            for message in reversed(messages):
                try:
                    await project(rt, revisions, message.data, message.metadata.sequence.stream)
                except Unprocessable:
                    # This version cannot read it; the live projector dead-letters it the same way.
                    result.unprocessable += 1
                else:
                    result.saw(message.subject)

    await asyncio.gather(*(newest_first(messages) for messages in groups.values()))


def _record_of(subject: str) -> str:
    tokens = subject.split(".")  # pw.evt.<incident>.<kind>[.<key>.<verb>]
    return ".".join(tokens[2:5]) if tokens[3] == "task" else tokens[2]


async def _remove_strays(rt: Runtime, result: Rebuilt) -> int:
    """Delete records no replayed event accounts for and the stream does not know either (a
    record written after the rebuild started is kept: its events are in the stream)."""
    removed = 0
    for bucket, replayed, named, kv in (
        (subjects.TASKS_BUCKET, result.tasks, _task_subject, rt.tasks),
        (subjects.INCIDENTS_BUCKET, result.incidents, _incident_subject, rt.incidents),
        (subjects.METRICS_BUCKET, result.tasks | result.incidents, _metrics_subject, rt.metrics),
    ):
        for entry in await entries(rt.js, bucket):
            if entry.value is None or entry.key in replayed:
                continue
            subject = named(entry.key)
            if subject is not None and await _stream_has(rt, subject):
                continue
            await kv.delete(entry.key)
            removed += 1
    if removed:
        log.warning("projection_strays_removed", count=removed)
    return removed


def _task_subject(key: str) -> str | None:
    """The filter of a task's events, or None for a key that is no task id at all."""
    return subjects.task_filter(*split_task_id(key)) if _TASK_ID.match(key) else None


def _incident_subject(key: str) -> str | None:
    return subjects.incident_logged(key) if _INCIDENT_ID.match(key) else None


def _metrics_subject(key: str) -> str | None:
    """A task's metrics are its events'; an incident's follow-up plan, the incident's."""
    return _task_subject(key) or _incident_subject(key)


async def _stream_has(rt: Runtime, subject_filter: str) -> bool:
    try:
        await rt.js.get_msg(subjects.EVENTS_STREAM, subject=subject_filter, direct=True)
    except NotFoundError:
        return False
    return True
