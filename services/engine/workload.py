"""How many open tasks each person holds, for the `least_loaded` policy and capacities: their
tasks as the assignee index lists them (services/core/indexes.py), read in batches from the
task projection. Projections trail the stream by milliseconds, so a count can miss a task
handed out a moment ago; a fan-out counts its own choices itself (services.engine.choosing)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from schemas.enums import TaskStatus
from schemas.subjects import INDEX_BUCKET, TASKS_BUCKET
from schemas.views import TaskRecord
from services.core import indexes, listing
from services.core.projections import readable
from services.core.runtime import Runtime

OPEN = frozenset(
    {TaskStatus.WAITING, TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS}
)


async def open_task_counts(rt: Runtime, people: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(people))
    counts = await asyncio.gather(*(_open_tasks(rt, person) for person in wanted))
    return dict(zip(wanted, counts, strict=True))


async def _open_tasks(rt: Runtime, person: str) -> int:
    keys = await listing.keys(rt.nc, INDEX_BUCKET, indexes.assignee_prefix(person) + ">")
    if not keys:
        return 0
    task_ids = [indexes.task_of_assignee_key(key)[1] for key in keys]
    found = await listing.values(rt.nc, TASKS_BUCKET, task_ids)
    records = (readable(TaskRecord, value) for value in found.values())
    return sum(
        1
        for record in records
        if record is not None and record.task.assignee == person and record.task.status in OPEN
    )
