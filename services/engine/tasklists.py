"""`task list`: pages of tasks, newest incident first and by deadline within an incident.

Three ways in, none of which reads the whole bucket: one incident (its keys, `<incident>.*`);
one person (the assignee index, then only the page's tasks); everyone (the incident index,
then the tasks of as many incidents as the page needs). Status is checked on the records read,
so a status filter may need a few pages' worth of reading; each request reads at most
`SCAN_MAX` records and hands back a cursor for the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas import subjects
from schemas.base import task_id_for
from schemas.commands import ListTasks, Reply
from schemas.principals import Principal
from schemas.replies import RawPage
from schemas.roster import Roster
from schemas.subjects import INDEX_BUCKET, TASKS_BUCKET
from schemas.tasks import TaskSnapshot
from schemas.views import TaskRecord
from services.core import access, indexes, listing
from services.core.access import Action, Reader
from services.core.bounded import bounded_task
from services.core.paging import (
    ITEM_BYTES_MAX,
    Cursor,
    PageBuilder,
    budget_for,
    decode_cursor,
    item_size,
)
from services.core.projections import Entry, parse_records, tasks_from_stream
from services.core.rpc import ok
from services.core.runtime import Runtime

NOT_YET = datetime.max.replace(tzinfo=UTC)
SCAN_MAX = 2000  # records one request may read while a filter skips them
# (`<part>.<rest>.<incident>`, key filters of its tasks, how many tasks it is expected to hold)
Group = tuple[str, list[str], int]
TASKS_PER_INCIDENT_GUESS = 8


@dataclass(frozen=True)
class Lens:
    """What the reader may see: which tasks, and of each, which notes."""

    reader: Reader
    roster: Roster

    def sees(self, task: TaskSnapshot) -> bool:
        return access.may_see_task(self.reader, task)

    def shown(self, task: TaskSnapshot) -> TaskSnapshot:
        return access.task_view(self.reader, self.roster, task)

    def exact(self, query: ListTasks) -> bool:
        """Whether a count of what is left can be exact: no filter skips records as read."""
        return query.status is None and bool(self.reader.roles & access.READS_EVERY_INCIDENT)


def _listed(task: TaskSnapshot) -> tuple[dict[str, Any], int]:
    item = task.model_dump(mode="json")
    size = item_size(item)
    if size > ITEM_BYTES_MAX:
        item = bounded_task(task).model_dump(mode="json")
        size = item_size(item)
    return item, size


def _matches(task: TaskSnapshot, query: ListTasks) -> bool:
    return (query.assignee is None or task.assignee == query.assignee) and (
        query.status is None or task.status is query.status
    )


def fill(
    page: PageBuilder, group: str, tasks: Iterable[TaskSnapshot], query: ListTasks, lens: Lens
) -> int:
    """Offer one incident's tasks to the page in order; how many matching ones did not fit."""
    placed = sorted((indexes.task_position(group, t), t) for t in tasks)
    left = 0
    for position, task in placed:
        if not page.after_start(position):
            continue
        matches = _matches(task, query) and lens.sees(task)
        if page.full:
            left += matches
        elif not matches:
            page.pass_over(position)
        elif not page.take(position, *_listed(lens.shown(task))):
            left += 1
    return left


async def _records(
    rt: Runtime, found: dict[str, bytes], filters: list[str]
) -> dict[str, list[TaskSnapshot]]:
    """Task snapshots by incident id. A record that cannot be read, or that was deleted, never
    breaks or shortens the list: the task's last event in the stream carries the whole task."""
    by_incident: dict[str, list[TaskSnapshot]] = {}
    records, damaged = parse_records(
        TaskRecord, [Entry(key=k, value=v, revision=0) for k, v in found.items()], TASKS_BUCKET
    )
    missing = [
        Entry(key=k, value=None, revision=0) for k in await _expected(rt, filters) - set(found)
    ]
    for record in [*records, *await tasks_from_stream(rt.store, [*damaged, *missing])]:
        by_incident.setdefault(record.task.incident_id, []).append(record.task)
    return by_incident


async def _expected(rt: Runtime, filters: list[str]) -> set[str]:
    """The task ids the filters name: an exact id, or every task of an incident (`<id>.*`) as
    the stream's subjects list them."""
    exact = {f for f in filters if not f.endswith(".*")}
    incidents = [f.removesuffix(".*") for f in filters if f.endswith(".*")]
    listed = await asyncio.gather(
        *(rt.store.subjects(subjects.incident_tasks(incident)) for incident in incidents)
    )
    for incident, found in zip(incidents, listed, strict=True):
        exact |= {task_id_for(incident, s.split(".")[4]) for s in found}
    return exact


@dataclass
class Walk:
    """Groups (incidents) offered to a page in order, read a few at a time; what is left."""

    page: PageBuilder
    query: ListTasks
    lens: Lens
    left: int = 0  # matching tasks read but not on the page
    unread: int = 0  # tasks (or an estimate) in groups listed but not read
    read: int = 0

    def chunk(self, groups: list[Group], index: int) -> list[Group]:
        """Enough groups for what the page still needs (at least one)."""
        need = self.page.limit - len(self.page.items) + 1
        taken, expected = [], 0
        for group in groups[index:]:
            taken.append(group)
            expected += group[2]
            if expected >= need:
                break
        return taken

    async def offer(self, rt: Runtime, groups: list[Group]) -> None:
        index = 0
        while index < len(groups) and not self.page.full and self.read < SCAN_MAX:
            chunk = self.chunk(groups, index)
            index += len(chunk)
            filters = [f for g in chunk for f in g[1]]
            found = await listing.values(rt.nc, TASKS_BUCKET, filters)
            self.read += len(found)
            by_incident = await _records(rt, found, filters)
            for group, _, _ in chunk:
                tasks = by_incident.get(indexes.incident_of_position(group), [])
                self.left += fill(self.page, group, tasks, self.query, self.lens)
        self.unread += sum(expected for _, _, expected in groups[index:])

    @property
    def done(self) -> bool:
        return self.page.full or self.read >= SCAN_MAX


def _start_group(start: Cursor | None) -> str:
    return indexes.group_of(start.after) if start else ""


async def _one_incident(rt: Runtime, query: ListTasks, page: PageBuilder, lens: Lens) -> RawPage:
    assert query.incident_id is not None
    filters = [f"{query.incident_id}.*"]
    found = await listing.values(rt.nc, TASKS_BUCKET, filters)
    tasks = (await _records(rt, found, filters)).get(query.incident_id, [])
    left = fill(page, f"{indexes.ALONE}.{query.incident_id}", tasks, query, lens)
    return page.page(left)


def _assignee_groups(positions: list[str]) -> list[Group]:
    groups: dict[str, list[str]] = {}
    for position in positions:
        group, task_id = indexes.task_of_assignee_key(position)
        groups.setdefault(group, []).append(task_id)
    return [(group, ids, len(ids)) for group, ids in sorted(groups.items())]


async def _of_assignee(rt: Runtime, query: ListTasks, page: PageBuilder, lens: Lens) -> RawPage:
    assert query.assignee is not None
    prefix = indexes.assignee_prefix(query.assignee)
    walk, begin = Walk(page, query, lens), _start_group(page.start)
    while True:
        run = await listing.keys_from(rt.nc, INDEX_BUCKET, prefix, begin, page.limit + 1)
        groups = _assignee_groups(run.positions)
        await walk.offer(rt, groups)
        if walk.done or not run.unlisted or not groups:
            break
        begin = listing.after_group(groups[-1][0])
    remaining = walk.left + walk.unread + run.unlisted
    return page.page(remaining, exact=lens.exact(query))


async def _everyone(rt: Runtime, query: ListTasks, page: PageBuilder, lens: Lens) -> RawPage:
    walk, begin = Walk(page, query, lens), _start_group(page.start)
    want = page.limit // TASKS_PER_INCIDENT_GUESS + 2
    while True:
        run = await listing.keys_from(rt.nc, INDEX_BUCKET, indexes.incidents_prefix(), begin, want)
        groups = [
            (p, [f"{indexes.incident_of_position(p)}.*"], TASKS_PER_INCIDENT_GUESS)
            for p in run.positions
        ]
        await walk.offer(rt, groups)
        if walk.done or not run.unlisted or not groups:
            break
        begin = listing.after_group(groups[-1][0])
    if not walk.unread and not run.unlisted:
        return page.page(walk.left, exact=lens.exact(query))
    # Tasks of incidents not read yet: the bucket's count less what earlier pages and this one
    # passed, an estimate (tasks added to older incidents count too).
    total = await listing.count(rt.nc, TASKS_BUCKET)
    passed = (page.start.passed if page.start else 0) + len(page.items)
    return page.page(max(total - passed, walk.left + 1), exact=False)


async def list_tasks(rt: Runtime, query: ListTasks, principal: Principal) -> Reply:
    """Tasks the reader may see (a responder: their own and the open ones of their roles), with
    the notes they may read."""
    reader = access.check(principal, rt.roster, Action.LIST_TASKS)
    lens = Lens(reader, rt.roster)
    page = PageBuilder(query.limit, budget_for(rt.max_payload), decode_cursor(query.cursor))
    if query.incident_id is not None:
        found = await _one_incident(rt, query, page, lens)
    elif query.assignee is not None:
        found = await _of_assignee(rt, query, page, lens)
    else:
        found = await _everyone(rt, query, page, lens)
    return ok(found, changed=False)
