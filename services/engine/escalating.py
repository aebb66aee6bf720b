"""Deadlines that fire: after every change to a task, its pending reminders and escalation
steps are made to match its state (NATS scheduled messages on the timers stream, which survive
restarts of every service and of NATS); when one fires, the step runs once — the task's
expected-sequence check and its record of steps run make a second firing, another replica or a
redelivery change nothing."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.escalation import EscalationAction, EscalationChain
from schemas.events import (
    DeadlineReached,
    IncidentLogged,
    PlaybookTriggered,
    TaskEscalated,
    TaskReminded,
)
from schemas.evolution import UnreadableEvent, read_event
from schemas.tasks import TaskSnapshot
from services.core.eventstore import ConcurrencyConflict
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.engine import deadlines, runs
from services.engine.assignment import next_in_rotation
from services.engine.commands import ATTEMPTS
from services.engine.rostering import offer_order
from services.engine.runstate import is_over_shared
from services.engine.tasks import LoadedTask, append_task_event, load_run, load_task

log = get_logger(__name__)


def chain_of(rt: Runtime, run: PlaybookTriggered, task: TaskSnapshot) -> EscalationChain:
    """The playbook task's own chain, else its role's in the roster, else the roster's."""
    template = runs.template_of(run, task.follow_up_of or task.key)
    if template is not None and template.escalation is not None:
        return template.escalation
    return rt.roster.escalation_for(task.role)


@dataclass(frozen=True)
class Clock:
    """What a task's deadlines are worked out from: its chain, the incident's time scale, who
    is involved in the incident, and its playbook run (None for a corrective action)."""

    chain: EscalationChain
    scale: float
    involved: tuple[str, ...]
    run: PlaybookTriggered | None


async def clock_of(rt: Runtime, task: TaskSnapshot) -> Clock | None:
    """None when nothing more of the task is to fire: its run is over (closed or cancelled).
    A corrective action belongs to no run, and its deadlines run after the incident closed."""
    if task.corrective_action:
        subject = subjects.incident_logged(task.incident_id)
        logged = await rt.store.last_of(subject, IncidentLogged)
        if logged is None:
            return None
        incident = logged.event
        chain = rt.roster.escalation_for(task.role)
        return Clock(chain, incident.time_scale, incident.involved, None)
    run = await load_run(rt, task.incident_id, task.run)
    if run is None or await is_over_shared(rt, run):
        return None
    return Clock(chain_of(rt, run, task), run.time_scale, run.involved, run)


async def on_task_event(rt: Runtime, body: bytes, seq: int) -> None:
    """Whatever happened to a task, bring its timers in line with where it stands now."""
    try:
        event = read_event(body)
    except UnreadableEvent:
        return  # a kind this version does not know; the next known event sets the timers
    task = getattr(event, "task", None)
    if not isinstance(task, TaskSnapshot) or _leaves_timers_as_they_are(event):
        return
    await keep_timers(rt, task.incident_id, task.key)


def _leaves_timers_as_they_are(event: object) -> bool:
    """A reminder or a step that hands the task to nobody new changes no deadline: the timer
    that ran it is spent and the others stand. (Many fire at once; this keeps them quick.)"""
    if isinstance(event, TaskReminded):
        return True
    return isinstance(event, TaskEscalated) and event.action != "reassign"


async def keep_timers(rt: Runtime, incident_id: str, key: str) -> None:
    loaded = await load_task(rt.store, task_id_for(incident_id, key))
    if loaded is None:
        return
    task = loaded.task
    clock = await clock_of(rt, task)
    wanted: dict[str, deadlines.Timer] = {}
    if clock is not None:
        wanted = {t.token: t for t in deadlines.timers_for(task, clock.chain, clock.scale)}
    pending = {
        subject.rsplit(".", 1)[1]
        for subject in await rt.store.subjects(
            subjects.task_deadline_schedules(incident_id, key), stream=subjects.TIMERS_STREAM
        )
    }
    for stale in sorted(pending - wanted.keys()):
        with contextlib.suppress(NotFoundError):
            await rt.js.purge_stream(
                subjects.TIMERS_STREAM,
                subject=subjects.deadline_schedule(incident_id, key, stale),
            )
    for token, timer in sorted(wanted.items()):
        if token in pending:
            continue
        await rt.store.schedule(
            subjects.deadline_schedule(incident_id, key, token),
            subjects.deadline_timer(incident_id, key, token),
            timer.at,
            DeadlineReached(
                event_id=f"{task.task_id}.deadline.{token}",
                incident_id=incident_id,
                actor="engine",
                at=timer.at,
                task_key=key,
                kind=timer.kind,
                assignment=timer.assignment,
                number=timer.number,
            ),
        )


async def on_deadline(rt: Runtime, fired: DeadlineReached) -> None:
    """A reminder or escalation step came due: run it — after any earlier step of its chain
    that has not run yet — once, if it still applies."""
    task_id = task_id_for(fired.incident_id, fired.task_key)
    loaded = await load_task(rt.store, task_id)
    if loaded is None:
        return
    for step in deadlines.in_order(loaded.task, fired):
        loaded = await _run_step(rt, task_id, step, loaded)
        if loaded is None:
            return


async def _run_step(
    rt: Runtime, task_id: str, fired: DeadlineReached, loaded: LoadedTask | None
) -> LoadedTask | None:
    """Run one step on the task as `loaded` (or as it is now, if it moved); the task after."""
    for _ in range(ATTEMPTS):
        loaded = loaded or await load_task(rt.store, task_id)
        if loaded is None:
            return None
        task = loaded.task
        clock = await clock_of(rt, task)
        if clock is None:
            return None
        people = await _people(rt, clock, task, deadlines.action_of(fired, clock.chain))
        event = deadlines.decide(task, fired, clock.chain, people, utc_now())
        if event is None:
            return loaded
        try:
            seq = await append_task_event(rt.store, event, loaded.seq)
        except ConcurrencyConflict:
            loaded = None
            continue  # the task moved: decide again on what it is now
        log.info(
            "task_escalated" if event.type == "task.escalated" else "task_reminded",
            task_id=task_id,
            kind=fired.kind,
            step=fired.number,
        )
        return LoadedTask(event.task, seq, event.at)
    raise RuntimeError(f"could not run deadline step {fired.kind} {fired.number} of {task_id}")


async def _people(
    rt: Runtime, clock: Clock, task: TaskSnapshot, action: EscalationAction | None
) -> deadlines.People:
    """Whom the step may involve: for `reassign`, the next person the task would be offered to
    (the run's pinned roster, availability now); for the notifying steps, the coordinators or
    command staff of the roster in force. Only what the step needs is read: a thousand
    reminders falling due together must not each work out an offer order. A corrective action
    was given to its owner by name: a `reassign` step finds nobody to hand it to."""
    # Never the people involved in the incident, nor whoever missed the deadline.
    left_out = {*clock.involved, *([task.assignee] if task.assignee else [])}
    run = clock.run
    staff = tuple(p for p in rt.roster.command_staff() if p not in left_out)
    match action:
        case "reassign" if run is not None:
            template = runs.template_of(run, task.follow_up_of or task.key)
            if template is None:
                return deadlines.People()
            candidates = await offer_order(rt, run, task, template)
            skip = {*task.declined_by, *([task.assignee] if task.assignee else [])}
            return deadlines.People(
                next_assignee=next_in_rotation(candidates, task.assignee, exclude=skip)
            )
        case "notify_coordinator":
            named = rt.roster.coordinators_of(task.role)
            coordinators = tuple(p for p in named if p not in left_out)
            # Coordinators who may not be told leave the step to command staff.
            return deadlines.People(coordinators=coordinators or staff)
        case "notify_command":
            return deadlines.People(command_staff=staff)
        case _:
            return deadlines.People()
