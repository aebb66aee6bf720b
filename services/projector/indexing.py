"""Keeps the list indexes in step with the projections, inside the projection of each event (so
replaying the stream through the projector rebuilds them too).

An index key is created when an incident is logged or a task changes hands, and the key it
replaces is purged (a purged key is gone from the key listing; a deleted one would leave a
marker). Each partition's counter follows what the server says happened (a create that found
the key, a purge that removed nothing, count nothing), so a redelivered event counts nothing
twice. Events
of one task can be projected concurrently, so after writing, the index is checked against the
task record as it is then. Readers check every listed task's record as well: a stale key can
make a page one short, never list a task under the wrong person.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from schemas import subjects
from schemas.events import IncidentLogged
from schemas.views import TaskRecord
from services.core import indexes
from services.core.runtime import Runtime

_STREAM = f"KV_{subjects.INDEX_BUCKET}"
ATTEMPTS = 20


class IncidentRanks:
    """When each incident was logged (it never changes), read once per process."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def remember(self, incident_id: str, logged_at: datetime) -> str:
        if len(self._known) >= self.LIMIT:
            self._known.clear()
        rank = self._known[incident_id] = indexes.newest_first(logged_at)
        return rank

    async def rank(self, rt: Runtime, incident_id: str) -> str:
        known = self._known.get(incident_id)
        if known is not None:
            return known
        found = await rt.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
        if found is None:
            raise LookupError(f"{incident_id} has tasks but was never logged")
        return self.remember(incident_id, found.event.at)


# A partition's counter is shared by every record in it: a rebuild or a busy projector may swap
# it from many workers at once, so a refused swap waits a moment, longer each time, and tries
# again.
COUNTER_ATTEMPTS = 60


async def _count(rt: Runtime, key: str, delta: int) -> None:
    """Add to a partition's counter, compare-and-swap on its revision."""
    for attempt in range(COUNTER_ATTEMPTS):
        if attempt:
            await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 20)))
        try:
            entry = await rt.index.get(key)
            current, revision = int(entry.value or b"0"), entry.revision
        except KeyNotFoundError:
            current, revision = 0, 0
        try:
            if revision:
                await rt.index.update(key, str(current + delta).encode(), last=revision)
            else:
                await rt.index.create(key, str(delta).encode())
            return
        except KeyWrongLastSequenceError:
            continue
    raise RuntimeError(f"counter {key} kept conflicting")


async def _put(rt: Runtime, prefix: str, position: str) -> None:
    """Create the key `prefix + position`; its partition counts it only if it was not there."""
    for _ in range(ATTEMPTS):
        try:
            await rt.index.create(prefix + position, b"")
        except KeyWrongLastSequenceError:
            return
        except KeyNotFoundError:
            # It was there when the create was refused, and purged before the client looked
            # at why (nats-py re-reads the key to tell a deleted one): try again.
            continue
        await _count(rt, indexes.counter(prefix, indexes.part_of(position)), 1)
        return
    raise RuntimeError(f"index key {prefix}{position} kept changing")


async def _purge(rt: Runtime, prefix: str, position: str) -> None:
    """Remove the key `prefix + position`; its partition stops counting it if it was there."""
    reply = await rt.nc.request(
        f"$JS.API.STREAM.PURGE.{_STREAM}",
        json.dumps({"filter": f"$KV.{subjects.INDEX_BUCKET}.{prefix}{position}"}).encode(),
        timeout=5,
    )
    answer = json.loads(reply.data)
    if "error" in answer:
        raise RuntimeError(f"purging an index key failed: {answer['error'].get('description')}")
    if answer.get("purged"):
        await _count(rt, indexes.counter(prefix, indexes.part_of(position)), -answer["purged"])


async def index_incident(rt: Runtime, ranks: IncidentRanks, event: IncidentLogged) -> None:
    ranks.remember(event.incident_id, event.at)
    key = indexes.incident_key(event.incident_id, event.at)
    await _put(rt, indexes.incidents_prefix(), indexes.incident_position(key))


async def _put_task(rt: Runtime, person: str, rank: str, task_id: str) -> None:
    prefix = indexes.assignee_prefix(person)
    await _put(rt, prefix, indexes.assignee_key(person, rank, task_id).removeprefix(prefix))


async def _purge_task(rt: Runtime, person: str, rank: str, task_id: str) -> None:
    prefix = indexes.assignee_prefix(person)
    await _purge(rt, prefix, indexes.assignee_key(person, rank, task_id).removeprefix(prefix))


async def _holder_now(rt: Runtime, task_id: str) -> str | None:
    try:
        entry = await rt.tasks.get(task_id)
    except KeyNotFoundError:
        return None
    return indexes.holder(TaskRecord.model_validate_json(entry.value).task) if entry.value else None


async def index_task(
    rt: Runtime, ranks: IncidentRanks, record: TaskRecord, before: str | None
) -> None:
    """The record moved from a version held by `before` to this one (see indexes.holder)."""
    task = record.task
    after = indexes.holder(task)
    if before == after:
        return
    rank = await ranks.rank(rt, task.incident_id)
    if after is not None:
        await _put_task(rt, after, rank, task.task_id)
    if before is not None:
        await _purge_task(rt, before, rank, task.task_id)
    now = await _holder_now(rt, task.task_id)
    if now == after:
        return
    # A later event of this task was projected while we wrote: leave only its holder's key.
    if after is not None:
        await _purge_task(rt, after, rank, task.task_id)
    if now is not None:
        await _put_task(rt, now, rank, task.task_id)


async def reindex_task(rt: Runtime, ranks: IncidentRanks, record: TaskRecord) -> None:
    """The same event again (a redelivery after a failure between the record and the index):
    make sure the task's holder has its key."""
    held_by = indexes.holder(record.task)
    if held_by is not None:
        rank = await ranks.rank(rt, record.task.incident_id)
        await _put_task(rt, held_by, rank, record.task.task_id)
