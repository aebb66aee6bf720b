"""The reconciler: finds playbook runs left unfinished — by a crash, a dead-lettered reaction, a
lost write — and finishes them. It runs when an engine starts and then on a repeating schedule
held by the server, which hands each tick to one engine replica. Every repair goes through the
same idempotent steps as the reactions, so any number of replicas may sweep at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from schemas import subjects
from schemas.base import utc_now
from schemas.events import PlaybookCancelled, PlaybookTriggered, ResponseCompleted
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.engine import roster_changes, runs
from services.engine.fanout import put_in_place, schedule_follow_ups
from services.engine.runstate import latest, run_number
from services.engine.settling import settle, waiting_templates
from services.engine.tasks import load_run

log = get_logger(__name__)


@dataclass
class Sweep:
    unfinished: int = 0  # runs not yet in place, finished now
    active: int = 0  # runs in place whose response is not complete, settled again
    follow_ups_restored: int = 0
    offered: int = 0  # unassigned tasks given to someone who can take them now


async def _runs_by_state(rt: Runtime) -> tuple[list[str], list[str]]:
    """(incidents whose run is not in place, incidents in place but not complete), neither
    closed, read from the subjects of the stream in three requests however many incidents
    there are — and a couple more for each incident that had a run cancelled."""
    verbs: dict[str, set[str]] = defaultdict(set)
    for subject in await rt.store.subjects(subjects.ALL_RUNS):
        parts = subject.split(".")
        verbs[parts[2]].add(parts[4])
    completed = {s.split(".")[2] for s in await rt.store.subjects(subjects.ALL_RESPONSES_COMPLETED)}
    closed = {s.split(".")[2] for s in await rt.store.subjects(subjects.ALL_CLOSED)}
    unfinished: list[str] = []
    active: list[str] = []
    for incident_id, seen in sorted(verbs.items()):
        if incident_id in closed:
            continue  # a closed incident's response is over: nothing of it is to be finished
        if "cancelled" in seen:
            state = await _state_after_cancelling(rt, incident_id)
        elif "in_place" not in seen:
            state = "unfinished"
        else:
            state = "complete" if incident_id in completed else "active"
        if state == "unfinished":
            unfinished.append(incident_id)
        elif state == "active":
            active.append(incident_id)
    return unfinished, active


async def _state_after_cancelling(rt: Runtime, incident_id: str) -> str:
    """Which run is current decides, not which subjects exist: an earlier run's events stay."""
    last = await latest(rt, incident_id)
    if last is None or isinstance(last.event, PlaybookCancelled):
        return "cancelled"
    if isinstance(last.event, PlaybookTriggered):
        return "unfinished"
    completion = await rt.store.last_of(subjects.response_completed(incident_id), ResponseCompleted)
    done = completion is not None and completion.event.run == run_number(last.event)
    return "complete" if done else "active"


async def sweep(rt: Runtime) -> Sweep:
    """One pass over every run. A run triggered less than an ack wait ago is left to the
    reaction that is setting it up."""
    result = Sweep()
    unfinished, active = await _runs_by_state(rt)
    settled_before = utc_now() - timedelta(seconds=rt.settings.ack_wait_seconds)
    for incident_id in unfinished:
        run = await load_run(rt, incident_id)
        if run is not None and run.at <= settled_before:
            log.warning("run_unfinished", incident_id=incident_id)
            await put_in_place(rt, run)
            result.unfinished += 1
    for incident_id in active:
        run = await load_run(rt, incident_id)
        if run is None:
            continue
        async with rt.run_locks.hold(incident_id):
            await settle(rt, run, waiting_templates(run))
            result.follow_ups_restored += await _restore_follow_ups(rt, run)
        result.active += 1
    result.offered = await roster_changes.offer_all_again(rt, None, "reconciled")
    log.info(
        "reconciled",
        unfinished=result.unfinished,
        active=result.active,
        follow_ups_restored=result.follow_ups_restored,
        offered=result.offered,
    )
    return result


async def _restore_follow_ups(rt: Runtime, run: PlaybookTriggered) -> int:
    """Schedule again any follow-up of the run that is neither pending nor came due."""
    incident_id = run.incident_id
    tasks = await rt.store.subjects(subjects.incident_tasks(incident_id))
    skipped = {s.split(".")[4] for s in tasks if s.endswith(".skipped")}
    pending = await rt.store.subjects(
        subjects.follow_up_schedule(incident_id, "*"), stream=subjects.TIMERS_STREAM
    )
    pending_keys = {s.split(".")[4] for s in pending}
    expected = runs.follow_ups_due(run, skipped)
    missing = [
        due
        for due in expected
        if runs.follow_up_key(due.parent_key, due.number) not in pending_keys
    ]
    if not missing:
        return 0
    restored = await schedule_follow_ups(rt, incident_id, missing)
    if restored:
        log.warning("follow_ups_restored", incident_id=incident_id, count=restored)
    return restored


async def on_tick(rt: Runtime, body: bytes, seq: int) -> None:
    await sweep(rt)


async def start_schedule(rt: Runtime) -> None:
    """(Re)publish the repeating schedule whose ticks drive the sweeps."""
    await rt.store.schedule_every(
        subjects.RECONCILE_SCHEDULE,
        subjects.RECONCILE_TICK,
        max(1, round(rt.settings.reconcile_interval_seconds)),
    )
