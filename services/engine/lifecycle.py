"""The task state machine, as pure functions.

    waiting ──(prerequisites complete)──▶ assigned ──ack──▶ acknowledged ──start──▶ in_progress
                                          │  ▲                                          │
                                          │  └──(reassigned)── unassigned ◀──decline────┤
                                          └────────────── complete ─────────────────────▶ completed

`start` implies `acknowledge`, and `complete` implies both: responders in the field do not always
press every button. Only the assignee may act on a task. A command whose effect already holds
(a retry) decides nothing, so it changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from schemas.commands import ActOnTask, ErrorCode, TaskVerb
from schemas.enums import TaskStatus
from schemas.events import (
    AnyTaskEvent,
    CancelCause,
    TaskAcknowledged,
    TaskAssigned,
    TaskCancelled,
    TaskCompleted,
    TaskDeclined,
    TaskReleased,
    TaskStarted,
)
from schemas.tasks import TaskSnapshot
from services.core.errors import Refused
from services.engine import clock
from services.engine.assignment import next_in_rotation

_PROGRESS = {
    TaskStatus.ASSIGNED: 0,
    TaskStatus.ACKNOWLEDGED: 1,
    TaskStatus.IN_PROGRESS: 2,
    TaskStatus.COMPLETED: 3,
}
_TARGET = {
    TaskVerb.ACKNOWLEDGE: TaskStatus.ACKNOWLEDGED,
    TaskVerb.START: TaskStatus.IN_PROGRESS,
    TaskVerb.COMPLETE: TaskStatus.COMPLETED,
}
_EVENT: dict[TaskVerb, type[TaskAcknowledged | TaskStarted | TaskCompleted]] = {
    TaskVerb.ACKNOWLEDGE: TaskAcknowledged,
    TaskVerb.START: TaskStarted,
    TaskVerb.COMPLETE: TaskCompleted,
}


def decide(task: TaskSnapshot, command: ActOnTask, now: datetime) -> AnyTaskEvent | None:
    """The event a command produces on a task, None if it already holds; raises Refused."""
    if command.verb is TaskVerb.DECLINE:
        return _decline(task, command, now)
    target = _TARGET[command.verb]
    _refuse_if_cancelled(task)
    if task.status is TaskStatus.SKIPPED:
        raise Refused(
            ErrorCode.INVALID_TRANSITION, f"task {task.task_id} was skipped for this incident"
        )
    if task.status is TaskStatus.WAITING:
        raise Refused(
            ErrorCode.INVALID_TRANSITION,
            f"task {task.task_id} is waiting on {', '.join(task.depends_on)} to complete first",
        )
    if task.status is TaskStatus.UNASSIGNED or task.assignee is None:
        raise Refused(
            ErrorCode.INVALID_TRANSITION, f"task {task.task_id} is not assigned to anyone"
        )
    if task.assignee != command.actor:
        raise Refused(
            ErrorCode.NOT_ASSIGNEE,
            f"task {task.task_id} is assigned to {task.assignee}, not to {command.actor}",
        )
    if _PROGRESS[task.status] >= _PROGRESS[target]:
        return None
    completing = command.verb is TaskVerb.COMPLETE
    note = command.note if completing else task.note
    note_sealed = command.note_sealed if completing else task.note_sealed
    after = task.model_copy(update={"status": target, "note": note, "note_sealed": note_sealed})
    return _EVENT[command.verb](
        event_id=f"{task.task_id}.{command.verb}.{command.request_id}",
        incident_id=task.incident_id,
        actor=command.actor,
        at=now,
        task=after,
    )


def _refuse_if_cancelled(task: TaskSnapshot) -> None:
    if task.status is TaskStatus.CANCELLED:
        raise Refused(
            ErrorCode.INVALID_TRANSITION,
            f"task {task.task_id} was cancelled when its incident was closed",
        )


def _decline(task: TaskSnapshot, command: ActOnTask, now: datetime) -> TaskDeclined | None:
    if command.actor in task.declined_by and task.assignee != command.actor:
        return None
    _refuse_if_cancelled(task)
    if task.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED):
        raise Refused(
            ErrorCode.INVALID_TRANSITION, f"task {task.task_id} is already {task.status.value}"
        )
    if task.assignee != command.actor:
        holder = task.assignee or "nobody"
        raise Refused(
            ErrorCode.NOT_ASSIGNEE,
            f"task {task.task_id} is assigned to {holder}, not to {command.actor}",
        )
    reason = (command.reason or "").strip() or None
    if reason is None and command.reason_sealed is None:
        raise Refused(ErrorCode.INVALID_REQUEST, "a decline needs a reason (--reason)")
    # A task declined before its prerequisites are done keeps waiting for them.
    status = TaskStatus.WAITING if task.status is TaskStatus.WAITING else TaskStatus.UNASSIGNED
    after = task.model_copy(
        update={
            "status": status,
            "assignee": None,
            "declined_by": (*task.declined_by, command.actor),
        }
    )
    return TaskDeclined(
        event_id=f"{task.task_id}.declined.{command.actor}",
        incident_id=task.incident_id,
        actor=command.actor,
        at=now,
        task=after,
        reason=reason,
        reason_sealed=command.reason_sealed,
    )


def release(
    task: TaskSnapshot,
    now: datetime,
    deadlines: tuple[datetime | None, datetime | None] = (None, None),
    actor: str = "engine",
) -> TaskReleased | None:
    """A waiting task whose prerequisites all completed goes to its assignee. Windows that count
    from the prerequisites get their deadlines now."""
    if task.status is not TaskStatus.WAITING:
        return None
    status = TaskStatus.ASSIGNED if task.assignee else TaskStatus.UNASSIGNED
    acknowledge_by, due_by = deadlines
    return TaskReleased(
        event_id=f"{task.task_id}.released",
        incident_id=task.incident_id,
        actor=actor,
        at=now,
        task=task.model_copy(
            update={
                "status": status,
                "acknowledge_by": acknowledge_by or task.acknowledge_by,
                "due_by": due_by or task.due_by,
                "assigned_at": now if task.assignee else None,
            }
        ),
    )


def reassign(
    task: TaskSnapshot, holders: Sequence[str], now: datetime, actor: str = "engine"
) -> TaskAssigned | None:
    """After a decline, hand the task to the next holder of its role who has not declined it.
    A waiting task stays waiting: only its assignee changes."""
    if task.assignee is not None or task.status not in (TaskStatus.UNASSIGNED, TaskStatus.WAITING):
        return None
    after_whom = task.declined_by[-1] if task.declined_by else None
    candidate = next_in_rotation(holders, after_whom, exclude=set(task.declined_by))
    if candidate is None:
        return None
    return TaskAssigned(
        event_id=f"{task.task_id}.assigned.{len(task.declined_by)}",
        incident_id=task.incident_id,
        actor=actor,
        at=now,
        task=clock.handed_to(task, candidate, now),
        previous_assignee=after_whom,
    )


def cancel(
    task: TaskSnapshot,
    now: datetime,
    actor: str,
    cause: CancelCause = "incident_closed",
) -> TaskCancelled | None:
    """A task not yet done is cancelled when its incident closes or its playbook run is
    cancelled; a done one stays as it is."""
    if task.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED, TaskStatus.CANCELLED):
        return None
    return TaskCancelled(
        event_id=f"{task.task_id}.cancelled",
        incident_id=task.incident_id,
        actor=actor,
        at=now,
        task=task.model_copy(update={"status": TaskStatus.CANCELLED}),
        cause=cause,
    )
