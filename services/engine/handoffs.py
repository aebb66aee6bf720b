"""Who holds a task, decided by people rather than the rotation: command staff assign, a role
holder claims, anyone on the task's team adds a note. Pure functions; the handlers are in
services/engine/task_commands.py."""

from __future__ import annotations

from datetime import datetime

from schemas.commands import MAX_NOTES_PER_TASK, AssignTask, ClaimTask, ErrorCode, NoteTask
from schemas.enums import TaskStatus
from schemas.events import TaskAssigned, TaskNoted
from schemas.tasks import TaskNote, TaskSnapshot
from services.core.errors import Refused
from services.engine import clock

CLOSED = (TaskStatus.COMPLETED, TaskStatus.SKIPPED, TaskStatus.CANCELLED)


def _open(task: TaskSnapshot) -> None:
    if task.status in CLOSED:
        raise Refused(
            ErrorCode.INVALID_TRANSITION, f"task {task.task_id} is already {task.status.value}"
        )


def _handed(task: TaskSnapshot, to: str, by: str, event_id: str, now: datetime) -> TaskAssigned:
    # A waiting task stays waiting; otherwise the new holder starts from "assigned", with a
    # clock of their own.
    return TaskAssigned(
        event_id=event_id,
        incident_id=task.incident_id,
        actor=by,
        at=now,
        task=clock.handed_to(task, to, now),
        previous_assignee=task.assignee,
    )


def assign(
    task: TaskSnapshot, command: AssignTask, why_not: str | None, now: datetime
) -> TaskAssigned | None:
    """`why_not`: why the person may not take the task (None: they may)."""
    _open(task)
    if task.assignee == command.to:
        return None
    if why_not is not None:
        raise Refused(ErrorCode.INVALID_REQUEST, f"cannot assign {task.task_id}: {why_not}")
    event_id = f"{task.task_id}.assigned.{command.request_id}"
    return _handed(task, command.to, command.actor, event_id, now)


def claim(
    task: TaskSnapshot, command: ClaimTask, why_not: str | None, now: datetime
) -> TaskAssigned | None:
    _open(task)
    if task.assignee == command.actor:
        return None
    if task.assignee is not None:
        raise Refused(
            ErrorCode.CONFLICT,
            f"task {task.task_id} is with {task.assignee}; only a task nobody has can be claimed",
        )
    if why_not is not None:
        raise Refused(ErrorCode.INVALID_REQUEST, f"cannot claim {task.task_id}: {why_not}")
    event_id = f"{task.task_id}.assigned.{command.request_id}"
    return _handed(task, command.actor, command.actor, event_id, now)


def note(task: TaskSnapshot, command: NoteTask, now: datetime) -> TaskNoted | None:
    event_id = f"{task.task_id}.noted.{command.request_id}"
    added = TaskNote(
        author=command.actor, at=now, tier=command.tier, text=command.text, sealed=command.sealed
    )
    if any(_same(n, added) for n in task.notes[-1:]):
        return None  # the same note again: a retry
    if len(task.notes) >= MAX_NOTES_PER_TASK:
        raise Refused(
            ErrorCode.INVALID_REQUEST,
            f"task {task.task_id} already has {MAX_NOTES_PER_TASK} notes; "
            "summarise in the completion note",
        )
    return TaskNoted(
        event_id=event_id,
        incident_id=task.incident_id,
        actor=command.actor,
        at=now,
        task=task.model_copy(update={"notes": (*task.notes, added)}),
    )


def _same(note: TaskNote, other: TaskNote) -> bool:
    # A retry resends the same envelope; text sealed again (a new nonce) is a new note.
    return (note.author, note.text, note.sealed) == (other.author, other.text, other.sealed)
