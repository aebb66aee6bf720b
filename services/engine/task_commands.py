"""Handlers for assigning, claiming, noting and reading a single task."""

from __future__ import annotations

from schemas import subjects
from schemas.base import split_task_id, utc_now
from schemas.commands import AssignTask, ClaimTask, GetTask, NoteTask, Reply
from schemas.enums import Tier
from schemas.events import AnyTaskEvent, IncidentLogged, PlaybookTriggered
from schemas.principals import Principal
from schemas.tasks import AssigneeRule, TaskSnapshot
from services.core import access, restricted_text
from services.core.access import Action, Reader, Target
from services.core.rpc import ok
from services.core.runtime import Runtime
from services.engine import corrective, handoffs, runs
from services.engine.assignment import ineligibility
from services.engine.commands import decide_and_append
from services.engine.tasks import load_run, require_task


def _rule(run: PlaybookTriggered | None, task: TaskSnapshot) -> AssigneeRule:
    template = runs.template_of(run, task.follow_up_of or task.key) if run else None
    return template.assignee if template else AssigneeRule()


async def _why_not(rt: Runtime, task: TaskSnapshot, person: str) -> str | None:
    if task.corrective_action:
        logged = await rt.store.last_of(subjects.incident_logged(task.incident_id), IncidentLogged)
        involved = logged.event.involved if logged is not None else ()
        return corrective.owner_problem(rt.roster, person, involved)
    run = await load_run(rt, task.incident_id, task.run)
    attributes = run.attributes if run else {}
    involved = run.involved if run else ()
    return ineligibility(rt.roster, person, task.role, _rule(run, task), attributes, involved)


def _check(
    rt: Runtime, principal: Principal, action: Action, task: TaskSnapshot, tier: Tier | None = None
) -> Reader:
    target = Target(task=task, exercise=task.exercise, tier=tier)
    return access.check(principal, rt.roster, action, target)


async def assign_task(rt: Runtime, command: AssignTask, principal: Principal) -> Reply:
    task = (await require_task(rt.store, command.task_id)).task
    reader = _check(rt, principal, Action.ASSIGN_TASK, task)
    why_not = await _why_not(rt, task, command.to)

    def decide(current: TaskSnapshot) -> AnyTaskEvent | None:
        return handoffs.assign(current, command, why_not, utc_now())

    return await decide_and_append(rt, command.task_id, decide, "task_assigned", reader)


async def claim_task(rt: Runtime, command: ClaimTask, principal: Principal) -> Reply:
    task = (await require_task(rt.store, command.task_id)).task
    reader = _check(rt, principal, Action.CLAIM_TASK, task)
    why_not = await _why_not(rt, task, command.actor)

    def decide(current: TaskSnapshot) -> AnyTaskEvent | None:
        return handoffs.claim(current, command, why_not, utc_now())

    return await decide_and_append(rt, command.task_id, decide, "task_claimed", reader)


async def note_task(rt: Runtime, command: NoteTask, principal: Principal) -> Reply:
    task = (await require_task(rt.store, command.task_id)).task
    reader = _check(rt, principal, Action.NOTE_TASK, task, command.tier)
    restricted_text.check_command(
        rt.roster, command, task.tier, require_sealed=rt.settings.require_sealed
    )

    def decide(current: TaskSnapshot) -> AnyTaskEvent | None:
        return handoffs.note(current, command, utc_now())

    return await decide_and_append(rt, command.task_id, decide, "task_noted", reader)


async def get_task(rt: Runtime, query: GetTask, principal: Principal) -> Reply:
    loaded = await require_task(rt.store, query.task_id)
    incident_id, _ = split_task_id(query.task_id)
    assert loaded.task.incident_id == incident_id
    reader = _check(rt, principal, Action.READ_TASK, loaded.task)
    return ok(access.task_view(reader, rt.roster, loaded.task), changed=False)
