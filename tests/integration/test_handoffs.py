"""Command staff assign, a role holder claims, responders add notes, anyone reads a task —
each refused with the reason when it may not happen."""

from __future__ import annotations

import pytest

from schemas import subjects
from schemas.commands import AssignTask, ClaimTask, ErrorCode, GetTask, NoteTask, TaskVerb
from schemas.enums import TaskStatus, Tier
from schemas.tasks import TaskSnapshot
from services.core.access import withheld
from services.core.confidential import open_view, seal_command
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.helpers import act, log_incident, wait_for_tasks
from tests.support import eventually, keyring, request_id

pytestmark = pytest.mark.integration


async def family_contact(caller: Caller) -> TaskSnapshot:
    incident_id = await log_incident(caller, "drill-chain")
    return (await wait_for_tasks(caller, incident_id, 5))["family-contact"]


def assigning(task: TaskSnapshot, to: str, actor: str = "renee.alvarez") -> AssignTask:
    return AssignTask(request_id=request_id(), actor=actor, task_id=task.task_id, to=to)


async def test_command_staff_assign_an_eligible_person_and_anyone_else_is_refused_with_why(
    caller: Caller,
) -> None:
    task = await family_contact(caller)
    other = "lena.morales" if task.assignee != "lena.morales" else "priya.nair"
    reply = await caller.ok(subjects.CMD_TASK_ASSIGN, assigning(task, other))
    moved = TaskSnapshot.model_validate(reply.data)
    assert (moved.assignee, moved.status) == (other, TaskStatus.ASSIGNED)
    again = await caller.ok(subjects.CMD_TASK_ASSIGN, assigning(task, other))
    assert again.changed is False

    not_a_holder = await caller(subjects.CMD_TASK_ASSIGN, assigning(task, "dana.reyes"))
    assert not_a_holder.error is not None
    assert not_a_holder.error.message.endswith(
        "dana.reyes does not hold the role victim_advocate (holds: community_liaison)"
    )
    not_command = await caller(subjects.CMD_TASK_ASSIGN, assigning(task, other, "dana.reyes"))
    assert not_command.error is not None and not_command.error.code is ErrorCode.FORBIDDEN


async def test_a_declined_task_nobody_has_can_be_claimed_by_a_role_holder_only(
    caller: Caller,
) -> None:
    task = await family_contact(caller)
    # Everyone in the role declines: nobody is left for the rotation.
    for _ in range(3):
        current = await caller.ok(subjects.QRY_TASK_GET, GetTask(task_id=task.task_id))
        holder = TaskSnapshot.model_validate(current.data).assignee
        if holder is None:
            break
        await act(
            caller, TaskSnapshot.model_validate(current.data), TaskVerb.DECLINE, reason="busy"
        )
        await wait_until_moved(caller, task.task_id, holder)
    pooled = TaskSnapshot.model_validate(
        (await caller.ok(subjects.QRY_TASK_GET, GetTask(task_id=task.task_id))).data
    )
    assert (pooled.status, pooled.assignee) == (TaskStatus.UNASSIGNED, None)

    stranger = ClaimTask(request_id=request_id(), actor="dana.reyes", task_id=task.task_id)
    refused = await caller(subjects.CMD_TASK_CLAIM, stranger)
    assert (
        refused.error is not None
        and "only holders of victim_advocate may claim it" in refused.error.message
    )
    claim = ClaimTask(request_id=request_id(), actor="priya.nair", task_id=task.task_id)
    claimed = TaskSnapshot.model_validate((await caller.ok(subjects.CMD_TASK_CLAIM, claim)).data)
    assert (claimed.status, claimed.assignee) == (TaskStatus.ASSIGNED, "priya.nair")
    late = ClaimTask(request_id=request_id(), actor="lena.morales", task_id=task.task_id)
    taken = await caller(subjects.CMD_TASK_CLAIM, late)
    assert taken.error is not None and "is with priya.nair" in taken.error.message


async def wait_until_moved(caller: Caller, task_id: str, holder: str) -> None:
    async def moved() -> bool:
        reply = await caller.ok(subjects.QRY_TASK_GET, GetTask(task_id=task_id))
        return TaskSnapshot.model_validate(reply.data).assignee != holder

    await eventually(moved)


async def test_notes_are_entries_of_their_own_and_restricted_ones_reach_only_their_team(
    caller: Caller, runtime: Runtime
) -> None:
    task = await family_contact(caller)
    assert task.assignee is not None
    words = "Family prefers calls after 6pm"
    plain = NoteTask(
        request_id=request_id(),
        actor=task.assignee,
        task_id=task.task_id,
        text=words,
        tier=Tier.RESTRICTED,
    )
    unsealed = await caller(subjects.CMD_TASK_NOTE, plain)
    assert unsealed.error is not None
    assert unsealed.error.message.startswith("text: restricted text must be sealed")
    note = seal_command(keyring(), runtime.roster, plain)
    noted = TaskSnapshot.model_validate((await caller.ok(subjects.CMD_TASK_NOTE, note)).data)
    assert [(n.author, n.tier, n.sealed) for n in noted.notes] == [
        (task.assignee, Tier.RESTRICTED, note.sealed)
    ]
    assert (await caller.ok(subjects.CMD_TASK_NOTE, note)).changed is False
    hidden = withheld(runtime.roster, task.assignee)
    assert hidden.startswith("[restricted: visible to ") and words not in hidden
    for reader, text in ((task.assignee, words), ("renee.alvarez", hidden)):
        get = GetTask(task_id=task.task_id)
        shown = await caller.ok(subjects.QRY_TASK_GET, get, reader=reader)
        opened = open_view(keyring(), TaskSnapshot.model_validate(shown.data))
        assert opened.notes[0].text == text
    outsider = note.model_copy(update={"actor": "dana.reyes", "request_id": request_id()})
    refused = await caller(subjects.CMD_TASK_NOTE, outsider)
    assert refused.error is not None and refused.error.code is ErrorCode.FORBIDDEN
