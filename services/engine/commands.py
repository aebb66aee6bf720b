"""Command handlers: load, decide (pure), append. Each retries a decision the stream refused
because another replica moved the same task first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import ActOnTask, ErrorCode, Reply, TaskVerb, TriggerPlaybook
from schemas.events import AnyTaskEvent, IncidentLogged, PlaybookCancelled, PlaybookTriggered
from schemas.principals import Principal
from schemas.replies import PlaybookStarted
from schemas.tasks import TaskSnapshot
from services.core import access, restricted_text
from services.core.access import Action, Reader, Target
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, Expect
from services.core.logging import get_logger
from services.core.rpc import ok
from services.core.runtime import Runtime
from services.engine import lifecycle, runs
from services.engine.assignment import next_in_rotation
from services.engine.rostering import offer_order
from services.engine.runstate import latest, run_number
from services.engine.tasks import append_task_event, load_run, require_task

log = get_logger(__name__)

ATTEMPTS = 5


async def act_on_task(rt: Runtime, command: ActOnTask, principal: Principal) -> Reply:
    task = (await require_task(rt.store, command.task_id)).task
    reader = access.check(
        principal, rt.roster, Action.ACT_ON_TASK, Target(task=task, exercise=task.exercise)
    )
    restricted_text.check_command(
        rt.roster, command, task.tier, require_sealed=rt.settings.require_sealed
    )

    def decide(task: TaskSnapshot) -> AnyTaskEvent | None:
        return lifecycle.decide(task, command, utc_now())

    reply = await decide_and_append(rt, command.task_id, decide, "task_" + command.verb, reader)
    if command.verb is TaskVerb.DECLINE and reply.changed:
        task = TaskSnapshot.model_validate(reply.data)
        return reply.model_copy(update={"notice": await _after_decline(rt, task)})
    return reply


async def _after_decline(rt: Runtime, task: TaskSnapshot) -> str:
    """Who the task goes to next, or that nobody is left — the truth, before the engine acts."""
    run = await load_run(rt, task.incident_id, task.run)
    template = runs.template_of(run, task.follow_up_of or task.key) if run else None
    people = await offer_order(rt, run, task, template) if run and template else []
    following = next_in_rotation(people, task.declined_by[-1], exclude=set(task.declined_by))
    if following is not None:
        return f"It goes to {following}, the next {task.role}."
    return (
        f"Nobody else can take it: every eligible {task.role} has declined or none is "
        f"available. Command staff must assign it: pathways task assign {task.task_id} "
        "--to PERSON --as YOU"
    )


async def decide_and_append(
    rt: Runtime,
    task_id: str,
    decide: Callable[[TaskSnapshot], AnyTaskEvent | None],
    log_event: str,
    reader: Reader,
) -> Reply:
    """Load the task, decide (pure), append expecting the version read; decide again if another
    replica moved the task first. A decision of None means the effect already holds. The task
    comes back as `reader` may see it (the notes of others withheld as in any read)."""
    for _ in range(ATTEMPTS):
        loaded = await require_task(rt.store, task_id)
        event = decide(loaded.task)
        if event is None:
            return ok(access.task_view(reader, rt.roster, loaded.task), changed=False)
        try:
            await append_task_event(rt.store, event, loaded.seq)
        except ConcurrencyConflict:
            continue
        log.info(log_event, task_id=task_id, status=event.task.status)
        return ok(access.task_view(reader, rt.roster, event.task))
    raise Refused(ErrorCode.CONFLICT, f"task {task_id} is changing too fast; try again")


async def start_run(
    rt: Runtime,
    incident: IncidentLogged,
    playbook_id: str,
    *,
    how: Literal["automatic", "manual"],
    actor: str,
) -> tuple[PlaybookTriggered, bool]:
    """Pin and trigger a playbook for an incident: one run at a time, and another only after
    command staff cancelled the last (never automatically)."""
    pinned = rt.library.get(playbook_id)
    if pinned is None:
        known = ", ".join(sorted(rt.library)) or "none"
        raise Refused(ErrorCode.NOT_FOUND, f"no playbook {playbook_id} (known: {known})")
    incident_id = incident.incident_id
    for _ in range(ATTEMPTS):
        last = await latest(rt, incident_id)
        if last is not None and not isinstance(last.event, PlaybookCancelled):
            existing = await load_run(rt, incident_id)
            assert existing is not None  # a run's other events follow its trigger
            if existing.playbook_id != playbook_id:
                raise Refused(
                    ErrorCode.CONFLICT,
                    f"incident {incident_id} already runs playbook {existing.playbook_id}; "
                    f"if that was a mistake: pathways playbook cancel {incident_id} "
                    "--reason TEXT --as YOU",
                )
            return existing, False
        if last is not None and how == "automatic":
            raise Refused(
                ErrorCode.CONFLICT, f"a playbook of {incident_id} was cancelled; a person decides"
            )
        number = 1 if last is None else run_number(last.event) + 1
        event = runs.trigger(
            pinned,
            incident,
            how=how,
            actor=actor,
            now=utc_now(),
            run=number,
            roster_version=rt.roster_version,
        )
        if number > 1:
            await _refuse_reused_keys(rt, event)
        try:
            await rt.store.append(
                subjects.playbook_triggered(incident_id),
                event,
                Expect(subjects.playbook_filter(incident_id), last.seq if last else 0),
            )
        except ConcurrencyConflict:
            continue
        log.info(
            "playbook_triggered",
            incident_id=incident_id,
            playbook_id=playbook_id,
            version=event.version,
            trigger=how,
            run=number,
        )
        return rt.remember_run(event), True
    raise Refused(ErrorCode.CONFLICT, f"incident {incident_id} is changing too fast")


async def _refuse_reused_keys(rt: Runtime, run: PlaybookTriggered) -> None:
    """A later run's keys are its playbook's with `-r<run>` appended; refuse the rare playbook
    whose keys would land on a task an earlier run created."""
    existing = {
        subject.split(".")[4]
        for subject in await rt.store.subjects(subjects.incident_tasks(run.incident_id))
    }
    reused = sorted(runs.keys_of(run) & existing)
    if reused:
        raise Refused(
            ErrorCode.CONFLICT,
            f"playbook {run.playbook_id} would reuse task {reused[0]} of an earlier run on "
            f"{run.incident_id}; rename that task key in the playbook",
        )


async def trigger_playbook(rt: Runtime, command: TriggerPlaybook, principal: Principal) -> Reply:
    logged = await rt.store.last_of(subjects.incident_logged(command.incident_id), IncidentLogged)
    if logged is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {command.incident_id}")
    exercise = Target(exercise=logged.event.exercise)
    access.check(principal, rt.roster, Action.TRIGGER_PLAYBOOK, exercise)
    if await rt.store.last(subjects.incident_closed(command.incident_id)) is not None:
        raise Refused(
            ErrorCode.INVALID_TRANSITION,
            f"incident {command.incident_id} is closed: its response has ended",
        )
    run, changed = await start_run(
        rt, logged.event, command.playbook_id, how="manual", actor=command.actor
    )
    started = PlaybookStarted(
        incident_id=run.incident_id,
        playbook_id=run.playbook_id,
        version=run.version,
        tasks=len(run.tasks),
        trigger=run.trigger,
        run=run.run,
    )
    return ok(started, changed=changed)
