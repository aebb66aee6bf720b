"""Setting a playbook run in place: create its tasks, schedule its follow-ups, release what is
already free, then record that the run is in place.

Every step is idempotent, and the run counts as set up only once `playbook.in_place` is
recorded, so whatever step a crash interrupts, the redelivered reaction or the reconciler runs
the whole sequence again and finishes it — creating, scheduling and releasing nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib

from schemas import subjects
from schemas.base import utc_now
from schemas.events import FollowUpDue, PlaybookTriggered, RunInPlace, TaskCreated, TaskSkipped
from schemas.events import event_verb as verb_of
from services.core.eventstore import ConcurrencyConflict, EventStore, Expect
from services.core.failpoints import failpoint
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.engine import runs
from services.engine.cancelling import wind_down_run
from services.engine.closing import wind_down
from services.engine.rostering import pinned_roster, run_availability
from services.engine.runstate import is_closed, is_current, is_over, latest
from services.engine.settling import settle, waiting_templates
from services.engine.tasks import append_task_event

log = get_logger(__name__)

# Task creations appended as one atomic batch: all of a 30-task playbook at once, and a huge
# playbook in several batches, so one batch never grows past what the server accepts.
FAN_OUT_BATCH = 64

# The steps, in order; a failpoint after each lets the crash tests stop the engine there.
CREATED, SCHEDULED, SETTLED = "fan-out.created", "fan-out.scheduled", "fan-out.settled"
STEPS = (CREATED, SCHEDULED, SETTLED)


async def is_in_place(rt: Runtime, run: PlaybookTriggered) -> bool:
    found = await rt.store.last_of(subjects.run_in_place(run.incident_id), RunInPlace)
    return found is not None and found.event.run == run.run


async def put_in_place(rt: Runtime, run: PlaybookTriggered) -> None:
    """Finish setting up the run unless it is already in place. One fan-out per incident at a
    time in this process; other replicas may race, and change nothing twice."""
    async with rt.run_locks.hold(run.incident_id):
        if await is_over(rt, run):
            return  # closed or cancelled before it was set up: there is nothing to start
        if not await is_in_place(rt, run):
            await fan_out(rt, run)


async def fan_out(rt: Runtime, run: PlaybookTriggered) -> None:
    roster = await pinned_roster(rt, run)
    availability = await run_availability(rt, roster, run)
    events = runs.instantiate(run, roster, utc_now(), availability)
    for start in range(0, len(events), FAN_OUT_BATCH):
        await _create_all(rt.store, events[start : start + FAN_OUT_BATCH])
    # Checked after creating: a close or cancel appended before this point is seen here, and
    # one appended after it finds these tasks when it winds the incident or the run down.
    if await is_closed(rt, run.incident_id):
        await wind_down(rt, run.incident_id, "engine")
        return
    if not await is_current(rt, run):
        await wind_down_run(rt, run, "engine")
        return
    failpoint(rt.settings, CREATED)
    skipped = {e.task.key for e in events if isinstance(e, TaskSkipped)}
    follow_ups = runs.follow_ups_due(run, skipped)
    await schedule_follow_ups(rt, run.incident_id, follow_ups)
    failpoint(rt.settings, SCHEDULED)
    # Prerequisites may have been skipped, or (after a crash) completed before a task existed.
    await settle(rt, run, waiting_templates(run))
    failpoint(rt.settings, SETTLED)
    marker = RunInPlace(
        event_id=f"{run.incident_id}.playbook.in_place{runs.suffix(run.run)}",
        incident_id=run.incident_id,
        actor="engine",
        at=utc_now(),
        playbook_id=run.playbook_id,
        run=run.run,
        created=len(events) - len(skipped),
        skipped=len(skipped),
        follow_ups=len(follow_ups),
    )
    # Only right after the run's trigger: not twice, and never after a cancel.
    last = await latest(rt, run.incident_id)
    if last is None or not isinstance(last.event, PlaybookTriggered) or last.event.run != run.run:
        return
    with contextlib.suppress(ConcurrencyConflict):  # another replica finished it first
        await rt.store.append(
            subjects.run_in_place(run.incident_id),
            marker,
            Expect(subjects.playbook_filter(run.incident_id), last.seq),
        )
    log.info(
        "run_in_place",
        incident_id=run.incident_id,
        created=marker.created,
        skipped=marker.skipped,
        follow_ups=marker.follow_ups,
    )


async def _create_all(store: EventStore, events: list[TaskCreated | TaskSkipped]) -> None:
    """One atomic batch; if some already exist (a crash, another replica), one by one."""
    try:
        await store.append_batch([_creation(event) for event in events])
    except ConcurrencyConflict:

        async def create(event: TaskCreated | TaskSkipped) -> None:
            with contextlib.suppress(ConcurrencyConflict):
                await append_task_event(store, event, 0)

        await asyncio.gather(*(create(event) for event in events))


def _creation(event: TaskCreated | TaskSkipped) -> tuple[str, TaskCreated | TaskSkipped, Expect]:
    task = event.task
    return (
        subjects.task_event(task.incident_id, task.key, verb_of(event)),
        event,
        Expect(subjects.task_filter(task.incident_id, task.key), 0),
    )


async def schedule_follow_ups(rt: Runtime, incident_id: str, due: list[FollowUpDue]) -> int:
    """Schedule every follow-up that has not come due yet; returns how many were scheduled.
    Scheduling one again replaces it (one schedule per subject), and one whose time has passed
    fires at once — its due event is appended once only — so repeating this is harmless."""
    fired = {
        subject.split(".")[4]
        for subject in await rt.store.subjects(subjects.incident_follow_ups_due(incident_id))
    }
    pending = [d for d in due if runs.follow_up_key(d.parent_key, d.number) not in fired]
    for follow_up in pending:
        key = runs.follow_up_key(follow_up.parent_key, follow_up.number)
        await rt.store.schedule(
            subjects.follow_up_schedule(incident_id, key),
            subjects.follow_up_timer(incident_id, key),
            follow_up.due_at,
            follow_up,
        )
    return len(pending)
