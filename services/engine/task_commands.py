"""Handlers for assigning, claiming, noting and reading a single task."""

from __future__ import annotations

from schemas.base import split_task_id, utc_now
from schemas.commands import AssignTask, ClaimTask, ErrorCode, GetTask, NoteTask, Reply
from schemas.enums import RoleFamily
from schemas.events import AnyTaskEvent, PlaybookTriggered
from schemas.tasks import AssigneeRule, TaskSnapshot
from services.core.errors import Refused
from services.core.rpc import ok
from services.core.runtime import Runtime
from services.engine import handoffs, runs
from services.engine.assignment import ineligibility
from services.engine.commands import decide_and_append
from services.engine.queries import visible
from services.engine.tasks import load_run, require_task


def _rule(run: PlaybookTriggered | None, task: TaskSnapshot) -> AssigneeRule:
    template = runs.template_of(run, task.follow_up_of or task.key) if run else None
    return template.assignee if template else AssigneeRule()


async def _why_not(rt: Runtime, task: TaskSnapshot, person: str) -> str | None:
    run = await load_run(rt, task.incident_id, task.run)
    attributes = run.attributes if run else {}
    involved = run.involved if run else ()
    return ineligibility(rt.roster, person, task.role, _rule(run, task), attributes, involved)


def _require_command_staff(rt: Runtime, person: str) -> None:
    # Command staff are whoever holds a role of the command family, whatever the roster calls it.
    if not rt.roster.in_family(person, RoleFamily.COMMAND):
        raise Refused(
            ErrorCode.NOT_ASSIGNEE,
            f"only command staff assign tasks; {person} is not command staff",
        )


async def assign_task(rt: Runtime, command: AssignTask) -> Reply:
    _require_command_staff(rt, command.actor)
    task = (await require_task(rt.store, command.task_id)).task
    why_not = await _why_not(rt, task, command.to)

    def decide(current: TaskSnapshot) -> AnyTaskEvent | None:
        return handoffs.assign(current, command, why_not, utc_now())

    return await decide_and_append(rt, command.task_id, decide, "task_assigned")


async def claim_task(rt: Runtime, command: ClaimTask) -> Reply:
    task = (await require_task(rt.store, command.task_id)).task
    why_not = await _why_not(rt, task, command.actor)

    def decide(current: TaskSnapshot) -> AnyTaskEvent | None:
        return handoffs.claim(current, command, why_not, utc_now())

    return await decide_and_append(rt, command.task_id, decide, "task_claimed")


async def note_task(rt: Runtime, command: NoteTask) -> Reply:
    task = (await require_task(rt.store, command.task_id)).task
    member = rt.roster.member(command.actor)
    allowed = member is not None and (
        command.actor == task.assignee
        or task.role in member.roles
        or rt.roster.in_family(command.actor, RoleFamily.COMMAND)
    )
    if not allowed:
        raise Refused(
            ErrorCode.NOT_ASSIGNEE,
            f"{command.actor} may not add notes to {task.task_id}: only its assignee, holders of "
            f"{task.role} and command staff may",
        )

    def decide(current: TaskSnapshot) -> AnyTaskEvent | None:
        return handoffs.note(current, command, utc_now())

    return await decide_and_append(rt, command.task_id, decide, "task_noted")


async def get_task(rt: Runtime, query: GetTask) -> Reply:
    loaded = await require_task(rt.store, query.task_id)
    incident_id, _ = split_task_id(query.task_id)
    assert loaded.task.incident_id == incident_id
    return ok(visible(loaded.task, query.viewer), changed=False)
