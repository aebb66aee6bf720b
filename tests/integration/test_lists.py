"""List queries page: every item once, in order, each reply within the server's max payload,
against the real projector and index."""

from __future__ import annotations

from datetime import timedelta

from schemas import subjects
from schemas.commands import ErrorCode, ListIncidents, ListTasks
from schemas.enums import TaskStatus, Tier
from schemas.replies import RawPage as Page
from services.core import indexes, listing
from services.core.access import withheld
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.listing_support import (
    BASE,
    a_person,
    a_task,
    an_incident,
    create,
    hand_over,
    ids,
    page_of,
)
from tests.support import eventually


async def walk(caller: Caller, subject: str, query: ListIncidents | ListTasks) -> list[Page]:
    pages = [await page_of(caller, subject, query)]
    while pages[-1].next_cursor is not None:
        query = query.model_copy(update={"cursor": pages[-1].next_cursor})
        pages.append(await page_of(caller, subject, query))
        assert len(pages) < 1000
    return pages


async def indexed(runtime: Runtime, prefix: str, count: int) -> None:
    """The family under `prefix` holds `count` keys, and its partition counters say so."""

    async def probe() -> bool:
        keys = await listing.keys(runtime.nc, subjects.INDEX_BUCKET, prefix + ">")
        parts = await listing.partition_counts(runtime.nc, subjects.INDEX_BUCKET, prefix)
        return len(keys) == count == sum(n for _, n in parts)

    await eventually(probe)


async def test_incident_list_walks_every_incident_once_newest_first(
    caller: Caller, runtime: Runtime
) -> None:
    # 13 days apart: every incident in a partition of its own, so pages cross partitions.
    mine = [await an_incident(runtime.js, BASE + timedelta(days=13 * i)) for i in range(23)]
    await eventually(lambda: _summaries_readable(runtime, mine))
    pages = await walk(caller, subjects.QRY_INCIDENT_LIST, ListIncidents(limit=7))
    seen = [i for p in pages for i in ids(p.items, "incident_id")]
    assert len(seen) == len(set(seen)), "an incident was listed twice"
    assert [i for i in seen if i in mine] == list(reversed(mine))
    assert all(len(p.items) <= 7 for p in pages)
    assert pages[0].remaining == len(seen) - len(pages[0].items)
    assert pages[-1].next_cursor is None and pages[-1].remaining == 0


async def _summaries_readable(runtime: Runtime, incidents: list[str]) -> bool:
    """Ours are listed, and so is every incident earlier tests logged: the projector may still
    be indexing theirs, which would change the counts while the pages are walked."""
    keys = await listing.keys(runtime.nc, subjects.INDEX_BUCKET, f"{indexes.INCIDENTS}.>")
    listed = {indexes.incident_of_position(indexes.incident_position(k)) for k in keys}
    logged = {s.split(".")[2] for s in await runtime.store.subjects("pw.evt.*.incident.logged")}
    parts = await listing.partition_counts(
        runtime.nc, subjects.INDEX_BUCKET, indexes.incidents_prefix()
    )
    counted = sum(n for _, n in parts) == len(keys)
    return set(incidents) <= listed and logged <= listed and counted


async def test_assignee_pages_stay_exact_while_tasks_arrive_and_change_hands(
    caller: Caller, runtime: Runtime
) -> None:
    js, person, other = runtime.js, a_person(), a_person()
    incidents = [await an_incident(js, BASE + timedelta(days=13 * i)) for i in range(6)]
    tasks = [
        a_task(incident, f"task-{n}", person, deadline=5 - n)
        for incident in incidents
        for n in range(5)
    ]
    for task in tasks:
        await create(js, task)
    await indexed(runtime, indexes.assignee_prefix(person), len(tasks))

    query = ListTasks(assignee=person, limit=4)
    first = await page_of(caller, subjects.QRY_TASK_LIST, query)
    assert first.remaining == len(tasks) - 4 and first.remaining_exact
    # Between pages: a task not listed yet changes hands, one already listed does too, and a
    # new task arrives in the oldest incident (after the cursor).
    later = next(t for t in tasks if t.task_id not in ids(first.items, "task_id"))
    await hand_over(js, later, other)
    await hand_over(js, next(t for t in tasks if t.task_id == first.items[0]["task_id"]), other)
    added = a_task(incidents[0], "task-new", person, deadline=9)
    await create(js, added)
    await indexed(runtime, indexes.assignee_prefix(person), len(tasks) - 2 + 1)

    pages = [
        first,
        *await walk(
            caller, subjects.QRY_TASK_LIST, query.model_copy(update={"cursor": first.next_cursor})
        ),
    ]
    seen = [i for p in pages for i in ids(p.items, "task_id")]
    expected = [t.task_id for t in tasks if t.task_id != later.task_id] + [added.task_id]
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert later.task_id not in seen
    # Newest incident first; by deadline within one.
    order = [incidents.index(i.split(".")[0]) for i in seen]
    assert order == sorted(order, reverse=True)
    assert all(item["assignee"] == person for p in pages for item in p.items)


async def test_a_task_that_changed_hands_leaves_the_old_list(
    caller: Caller, runtime: Runtime
) -> None:
    js, person, other = runtime.js, a_person(), a_person()
    incident = await an_incident(js, BASE)
    task = a_task(incident, "handover", person, deadline=1)
    await create(js, task)
    await indexed(runtime, indexes.assignee_prefix(person), 1)
    moved = await hand_over(js, task, other)
    await indexed(runtime, indexes.assignee_prefix(other), 1)
    await indexed(runtime, indexes.assignee_prefix(person), 0)
    assert (await page_of(caller, subjects.QRY_TASK_LIST, ListTasks(assignee=person))).items == []
    back = await hand_over(js, moved, person)
    await indexed(runtime, indexes.assignee_prefix(person), 1)
    await indexed(runtime, indexes.assignee_prefix(other), 0)
    page = await page_of(caller, subjects.QRY_TASK_LIST, ListTasks(assignee=person))
    assert ids(page.items, "task_id") == [back.task_id]


async def test_one_incident_pages_by_deadline(caller: Caller, runtime: Runtime) -> None:
    js, person = runtime.js, a_person()
    incident = await an_incident(js, BASE)
    tasks = [a_task(incident, f"step-{n}", person, deadline=10 - n) for n in range(7)]
    for task in tasks:
        await create(js, task)
    await indexed(runtime, indexes.assignee_prefix(person), len(tasks))
    pages = await walk(caller, subjects.QRY_TASK_LIST, ListTasks(incident_id=incident, limit=2))
    seen = [i for p in pages for i in ids(p.items, "task_id")]
    assert seen == [t.task_id for t in reversed(tasks)]
    assert [len(p.items) for p in pages] == [2, 2, 2, 1]


async def test_everyone_s_tasks_page_through_every_task_once(
    caller: Caller, runtime: Runtime
) -> None:
    js, person = runtime.js, a_person()
    incidents = [await an_incident(js, BASE + timedelta(days=i)) for i in range(3)]
    tasks = [a_task(i, f"all-{n}", person, deadline=n) for i in incidents for n in range(4)]
    for task in tasks:
        await create(js, task)
    await indexed(runtime, indexes.assignee_prefix(person), len(tasks))
    pages = await walk(caller, subjects.QRY_TASK_LIST, ListTasks(limit=9))
    seen = [i for p in pages for i in ids(p.items, "task_id")]
    assert len(seen) == len(set(seen)), "a task was listed twice"
    mine = [i for i in seen if i.split(".")[0] in incidents]
    assert mine == [
        t.task_id
        for t in sorted(tasks, key=lambda t: (-incidents.index(t.incident_id), t.acknowledge_by))
    ]


async def test_a_cursor_from_nowhere_is_refused(caller: Caller) -> None:
    reply = await caller(subjects.QRY_INCIDENT_LIST, ListIncidents(cursor="not-a-cursor"))
    assert not reply.ok and reply.error is not None
    assert reply.error.code is ErrorCode.INVALID_REQUEST and "cursor" in reply.error.message


async def test_people_whose_ids_share_a_prefix_keep_separate_lists(
    caller: Caller, runtime: Runtime
) -> None:
    js, person = runtime.js, a_person()
    dotted = f"{person}.reyes"
    incident = await an_incident(js, BASE)
    await create(js, a_task(incident, "plain", person, deadline=1))
    await create(js, a_task(incident, "dotted", dotted, deadline=1))
    await indexed(runtime, indexes.assignee_prefix(dotted), 1)
    await indexed(runtime, indexes.assignee_prefix(person), 1)
    for who, key in ((person, "plain"), (dotted, "dotted")):
        page = await page_of(caller, subjects.QRY_TASK_LIST, ListTasks(assignee=who))
        assert ids(page.items, "key") == [key]


async def test_status_and_viewer_filters_hold_across_pages(
    caller: Caller, runtime: Runtime
) -> None:
    js, person = runtime.js, a_person()
    incident = await an_incident(js, BASE)
    tasks = [a_task(incident, f"mixed-{n}", person, deadline=n) for n in range(6)]
    for n, task in enumerate(tasks):
        if n % 2:
            task = task.model_copy(
                update={"status": TaskStatus.COMPLETED, "tier": Tier.RESTRICTED, "note": "secret"}
            )
        await create(js, task)
    await indexed(runtime, indexes.assignee_prefix(person), len(tasks))
    done = ListTasks(assignee=person, status=TaskStatus.COMPLETED, limit=2)
    pages = await walk(caller, subjects.QRY_TASK_LIST, done)
    seen = [i for p in pages for i in p.items]
    assert [t["key"] for t in seen] == ["mixed-1", "mixed-3", "mixed-5"]
    # The person is on no roster, so no team may read what they wrote: not even an auditor.
    assert {t["note"] for t in seen} == {withheld(runtime.roster, person)} == {"[restricted]"}
    assert not pages[0].remaining_exact
    by_incident = await walk(
        caller, subjects.QRY_TASK_LIST, ListTasks(incident_id=incident, status=TaskStatus.ASSIGNED)
    )
    assert [t["key"] for p in by_incident for t in p.items] == ["mixed-0", "mixed-2", "mixed-4"]
