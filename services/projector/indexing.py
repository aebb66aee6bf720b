"""Keeps the list indexes in step with the projections, inside the projection of each event (so
replaying the stream through the projector rebuilds them too).

An index key is put when an incident is logged or a task changes hands, and the key it replaces
is purged (a purged key is gone from the key listing; a deleted one would leave a marker). Events
of one task can be projected concurrently, so after writing, the index is checked against the
task record as it is then. Readers check every listed task's record as well: a stale key can
make a page one short, never list a task under the wrong person.
"""

from __future__ import annotations

from datetime import datetime

from nats.js.errors import KeyNotFoundError

from schemas import subjects
from schemas.events import IncidentLogged
from schemas.views import TaskRecord
from services.core import indexes
from services.core.runtime import Runtime

_STREAM = f"KV_{subjects.INDEX_BUCKET}"


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


async def index_incident(rt: Runtime, ranks: IncidentRanks, event: IncidentLogged) -> None:
    ranks.remember(event.incident_id, event.at)
    await rt.index.put(indexes.incident_key(event.incident_id, event.at), b"")


async def _purge(rt: Runtime, key: str) -> None:
    await rt.js.purge_stream(_STREAM, subject=f"$KV.{subjects.INDEX_BUCKET}.{key}")


async def _assignee_now(rt: Runtime, task_id: str) -> str | None:
    try:
        entry = await rt.tasks.get(task_id)
    except KeyNotFoundError:
        return None
    return TaskRecord.model_validate_json(entry.value).task.assignee if entry.value else None


async def index_task(
    rt: Runtime, ranks: IncidentRanks, record: TaskRecord, before: str | None
) -> None:
    """The record moved from a version held by `before` to this one."""
    task = record.task
    after = task.assignee
    if before == after:
        return
    rank = await ranks.rank(rt, task.incident_id)
    if after is not None:
        await rt.index.put(indexes.assignee_key(after, rank, task.task_id), b"")
    if before is not None:
        await _purge(rt, indexes.assignee_key(before, rank, task.task_id))
    now = await _assignee_now(rt, task.task_id)
    if now == after:
        return
    # A later event of this task was projected while we wrote: leave only its holder's key.
    if after is not None:
        await _purge(rt, indexes.assignee_key(after, rank, task.task_id))
    if now is not None:
        await rt.index.put(indexes.assignee_key(now, rank, task.task_id), b"")


async def reindex_task(rt: Runtime, ranks: IncidentRanks, record: TaskRecord) -> None:
    """The same event again (a redelivery after a failure between the record and the index):
    make sure the task's holder has its key."""
    if record.task.assignee is not None:
        rank = await ranks.rank(rt, record.task.incident_id)
        key = indexes.assignee_key(record.task.assignee, rank, record.task.task_id)
        await rt.index.put(key, b"")
