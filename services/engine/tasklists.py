"""`task list`: pages of tasks, newest incident first and by deadline within an incident.

Three ways in, none of which reads the whole bucket: one incident (its keys, `<incident>.*`);
one person (the assignee index, then only the page's tasks); everyone (the incident index,
then the tasks of as many incidents as the page needs). Status is checked on the records read,
so a status filter may need a few pages' worth of reading; each request reads at most
`SCAN_MAX` records and hands back a cursor for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from schemas.commands import ListTasks, Page, Reply
from schemas.enums import Tier
from schemas.subjects import INDEX_BUCKET, TASKS_BUCKET
from schemas.tasks import TaskSnapshot
from schemas.views import TaskRecord
from services.core import indexes, listing
from services.core.bounded import bounded_task
from services.core.paging import (
    ITEM_BYTES_MAX,
    Cursor,
    PageBuilder,
    budget_for,
    decode_cursor,
    item_size,
)
from services.core.rpc import ok
from services.core.runtime import Runtime

NOT_YET = datetime.max.replace(tzinfo=UTC)
RESTRICTED_NOTE = "[restricted: visible to the responder's team only]"
SCAN_MAX = 2000  # records one request may read while a filter skips them
Group = tuple[str, list[str]]  # (`<newest>.<incident>`, key filters of its tasks)


def visible(task: TaskSnapshot, viewer: str | None) -> TaskSnapshot:
    """A restricted note is shown only to the person who wrote it."""
    if task.note and task.tier is Tier.RESTRICTED and viewer != task.assignee:
        return task.model_copy(update={"note": RESTRICTED_NOTE})
    return task


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


def fill(page: PageBuilder, rank: str, tasks: Iterable[TaskSnapshot], query: ListTasks) -> int:
    """Offer one incident's tasks to the page in order; how many matching ones did not fit."""
    placed = sorted((indexes.task_position(rank, t), t) for t in tasks)
    left = 0
    for position, task in placed:
        if not page.after_start(position):
            continue
        if page.full:
            left += _matches(task, query)
        elif not _matches(task, query):
            page.pass_over(position)
        elif not page.take(position, *_listed(visible(task, query.viewer))):
            left += 1
    return left


def _records(found: dict[str, bytes]) -> dict[str, list[TaskSnapshot]]:
    """Task snapshots by incident id."""
    by_incident: dict[str, list[TaskSnapshot]] = {}
    for raw in found.values():
        task = TaskRecord.model_validate_json(raw).task
        by_incident.setdefault(task.incident_id, []).append(task)
    return by_incident


async def _walk(
    rt: Runtime, page: PageBuilder, groups: list[Group], query: ListTasks
) -> tuple[int, int]:
    """Fill the page from groups in order, reading a few at a time; (matching tasks read but
    not on the page, groups not read at all)."""
    left, read, index = 0, 0, 0
    while index < len(groups) and not page.full and read < SCAN_MAX:
        chunk = groups[index : index + max(2, page.limit // 8)]
        index += len(chunk)
        found = await listing.values(rt.nc, TASKS_BUCKET, [f for _, fs in chunk for f in fs])
        read += len(found)
        by_incident = _records(found)
        for rank, _ in chunk:
            tasks = by_incident.get(indexes.incident_of_position(rank), [])
            left += fill(page, rank, tasks, query)
    return left, len(groups) - index


def _start_group(start: Cursor | None) -> str:
    return indexes.group_of(start.after) if start else ""


async def _one_incident(rt: Runtime, query: ListTasks, page: PageBuilder) -> Page:
    assert query.incident_id is not None
    found = await listing.values(rt.nc, TASKS_BUCKET, [f"{query.incident_id}.*"])
    tasks = _records(found).get(query.incident_id, [])
    left = fill(page, indexes.ALONE, tasks, query)
    return page.page(left)


async def _of_assignee(rt: Runtime, query: ListTasks, page: PageBuilder) -> Page:
    assert query.assignee is not None
    keys = await listing.keys(rt.nc, INDEX_BUCKET, indexes.assignee_prefix(query.assignee) + ">")
    groups: dict[str, list[str]] = {}
    first = _start_group(page.start)
    for key in keys:
        rank, task_id = indexes.task_of_assignee_key(key)
        if rank >= first:
            groups.setdefault(rank, []).append(task_id)
    ordered = sorted(groups.items())
    left, unread = await _walk(rt, page, ordered, query)
    unread_tasks = sum(len(ids) for _, ids in ordered[len(ordered) - unread :]) if unread else 0
    return page.page(left + unread_tasks, exact=query.status is None)


async def _everyone(rt: Runtime, query: ListTasks, page: PageBuilder) -> Page:
    keys = await listing.keys(rt.nc, INDEX_BUCKET, f"{indexes.INCIDENTS}.>")
    first = _start_group(page.start)
    ranks = [p for p in map(indexes.incident_position, keys) if p >= first]
    groups = [(rank, [f"{indexes.incident_of_position(rank)}.*"]) for rank in ranks]
    left, unread = await _walk(rt, page, groups, query)
    if not unread:
        return page.page(left, exact=query.status is None)
    # Tasks of incidents not read yet: the bucket's count less what earlier pages and this one
    # passed, an estimate (tasks added to older incidents count too).
    total = await listing.count(rt.nc, TASKS_BUCKET)
    passed = (page.start.passed if page.start else 0) + len(page.items)
    return page.page(max(total - passed, left + unread), exact=False)


async def list_tasks(rt: Runtime, query: ListTasks) -> Reply:
    page = PageBuilder(query.limit, budget_for(rt.max_payload), decode_cursor(query.cursor))
    if query.incident_id is not None:
        found = await _one_incident(rt, query, page)
    elif query.assignee is not None:
        found = await _of_assignee(rt, query, page)
    else:
        found = await _everyone(rt, query, page)
    return ok(found, changed=False)
