"""What the engine does when events happen: trigger, fan out, reassign, follow up, settle.
Every reaction is idempotent: a redelivery repeats nothing that already happened."""

from __future__ import annotations

import contextlib

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.enums import TaskStatus
from schemas.events import (
    FollowUpDue,
    IncidentLogged,
    PlaybookTriggered,
    TaskCompleted,
    TaskDeclined,
)
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, Expect
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.engine import lifecycle, runs
from services.engine.cancelling import wind_down_run
from services.engine.closing import wind_down
from services.engine.commands import ATTEMPTS, start_run
from services.engine.fanout import put_in_place
from services.engine.rostering import follow_up_context, offer_order
from services.engine.runstate import is_closed, is_current, is_over
from services.engine.settling import settle
from services.engine.tasks import append_task_event, load_run, load_task

log = get_logger(__name__)


async def on_incident_logged(rt: Runtime, incident: IncidentLogged) -> None:
    pinned = runs.automatic_playbook(rt.library.values(), incident)
    if pinned is None:
        return
    try:
        run, _ = await start_run(rt, incident, pinned.playbook.id, how="automatic", actor="engine")
    except Refused as exc:
        # Someone triggered another playbook by hand first; theirs stands.
        log.warning("automatic_trigger_skipped", incident_id=incident.incident_id, reason=exc.code)
        return
    # Fanning out here saves a consumer hop. If this fails or the process dies, the redelivered
    # incident.logged, the playbook.triggered reaction or the reconciler finishes the job.
    await put_in_place(rt, run)


async def on_playbook_triggered(rt: Runtime, run: PlaybookTriggered) -> None:
    await put_in_place(rt, rt.remember_run(run))


async def on_task_completed(rt: Runtime, event: TaskCompleted) -> None:
    if event.task.corrective_action:
        return  # of no run: nothing waits on it
    run = await load_run(rt, event.incident_id, event.task.run)
    if run is not None:
        await settle(rt, run, runs.dependents(run, event.task.key))


async def on_task_declined(rt: Runtime, event: TaskDeclined) -> None:
    if event.task.corrective_action:
        return  # given by name: command staff give it to someone else (task assign)
    run = await load_run(rt, event.incident_id, event.task.run)
    key = event.task.follow_up_of or event.task.key
    template = runs.template_of(run, key) if run else None
    for _ in range(ATTEMPTS):
        loaded = await load_task(rt.store, event.task.task_id)
        if loaded is None or run is None or template is None:
            return
        people = await offer_order(rt, run, loaded.task, template)
        assigned = lifecycle.reassign(loaded.task, people, utc_now())
        if assigned is None:
            if loaded.task.status is TaskStatus.UNASSIGNED:
                log.warning("task_unassigned", task_id=loaded.task.task_id, role=loaded.task.role)
            return
        try:
            await append_task_event(rt.store, assigned, loaded.seq)
        except ConcurrencyConflict:
            continue
        log.info("task_reassigned", task_id=loaded.task.task_id)
        return
    raise RuntimeError(f"could not reassign {event.task.task_id}")


async def on_follow_up_timer(rt: Runtime, due: FollowUpDue) -> None:
    """A follow-up's schedule fired in the timers stream: record that it came due, once —
    unless the incident was closed or the run cancelled meanwhile."""
    run = await load_run(rt, due.incident_id, due.run)
    if run is None or await is_over(rt, run):
        return
    key = runs.follow_up_key(due.parent_key, due.number)
    with contextlib.suppress(ConcurrencyConflict):
        await rt.store.append(
            subjects.follow_up_due(due.incident_id, key),
            due,
            Expect(subjects.follow_up_filter(due.incident_id, key), 0),
        )


async def on_follow_up_due(rt: Runtime, due: FollowUpDue) -> None:
    run = await load_run(rt, due.incident_id, due.run)
    if run is None:
        return
    parent = await load_task(rt.store, task_id_for(due.incident_id, due.parent_key))
    roster, available = await follow_up_context(rt, run, due.parent_key)
    created = runs.follow_up_task(
        run, due, parent.task if parent else None, roster, utc_now(), available
    )
    if created is None or await is_over(rt, run):
        return
    try:
        await append_task_event(rt.store, created, 0)
    except ConcurrencyConflict:
        return
    log.info("follow_up_created", task_id=created.task.task_id)
    # Closed or cancelled while it was being created: wind down what this left behind.
    if await is_closed(rt, due.incident_id):
        await wind_down(rt, due.incident_id, "engine")
    elif not await is_current(rt, run):
        await wind_down_run(rt, run, "engine")
