"""A task's clock: every assignment gets its own acknowledge-by and due-by, counted from when the
task reached the person (never earlier than the playbook planned, so a task of a later phase
keeps its phase). Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.enums import TaskStatus
from schemas.tasks import TaskSnapshot


def started(task: TaskSnapshot, now: datetime) -> dict[str, Any]:
    """The fields that start the clock of the task's current assignment at `now`."""
    acknowledge_by, due_by = task.acknowledge_by, task.due_by
    if task.acknowledge_window is not None:
        restarted = now + task.acknowledge_window
        acknowledge_by = max(acknowledge_by, restarted) if acknowledge_by else restarted
    if task.due_window is not None:
        restarted = now + task.due_window
        due_by = max(due_by, restarted) if due_by else restarted
    return {"assigned_at": now, "acknowledge_by": acknowledge_by, "due_by": due_by}


def handed_to(
    task: TaskSnapshot, person: str, now: datetime, *, escalation_from: int = 0
) -> TaskSnapshot:
    """The task as a new holder gets it: a new assignment whose clock starts now — or, for a
    task still waiting on its prerequisites, when it is released."""
    waiting = task.status is TaskStatus.WAITING
    update: dict[str, Any] = {
        "assignee": person,
        "status": TaskStatus.WAITING if waiting else TaskStatus.ASSIGNED,
        "assignment": task.assignment + 1,
        "escalation_from": escalation_from,
    }
    if not waiting:
        update |= started(task, now)
    return task.model_copy(update=update)
