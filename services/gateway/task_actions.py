"""Which of a task's forms a page offers a reader: the assignee's next steps, Claim for a
holder of the role while nobody has the task, and notes while it is open. This only spares
people buttons that could not work; the services still decide every action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from schemas.enums import TaskStatus
from schemas.tasks import TaskSnapshot

CLOSED = frozenset({TaskStatus.COMPLETED, TaskStatus.SKIPPED, TaskStatus.CANCELLED})


class Verb(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    COMPLETE = "complete"
    DECLINE = "decline"
    CLAIM = "claim"


# What the assignee may still do in each status (start implies acknowledge, complete both).
_ASSIGNEE_VERBS = {
    TaskStatus.WAITING: (Verb.DECLINE,),
    TaskStatus.ASSIGNED: (Verb.ACKNOWLEDGE, Verb.START, Verb.COMPLETE, Verb.DECLINE),
    TaskStatus.ACKNOWLEDGED: (Verb.START, Verb.COMPLETE, Verb.DECLINE),
    TaskStatus.IN_PROGRESS: (Verb.COMPLETE, Verb.DECLINE),
}
# The one step a list offers next to a task (the rest are on the task's page).
_NEXT_STEP = {TaskStatus.ASSIGNED: Verb.ACKNOWLEDGE, TaskStatus.ACKNOWLEDGED: Verb.START}


def verbs_for(
    task: TaskSnapshot, person: str | None, held_roles: frozenset[str]
) -> tuple[Verb, ...]:
    if person is None or task.status in CLOSED:
        return ()
    if task.assignee == person:
        return _ASSIGNEE_VERBS.get(task.status, ())
    if task.assignee is None and task.role in held_roles:
        return (Verb.CLAIM,)
    return ()


def next_step(task: TaskSnapshot, person: str | None) -> Verb | None:
    if person is None or task.assignee != person:
        return None
    return _NEXT_STEP.get(task.status)


def may_note(
    task: TaskSnapshot, person: str | None, held_roles: frozenset[str], command: bool
) -> bool:
    """Whether to offer the note form: to its assignee, holders of its role and command staff,
    while the task is open."""
    if person is None or task.status in CLOSED:
        return False
    return command or task.assignee == person or task.role in held_roles


@dataclass(frozen=True)
class Deadline:
    """The deadline that matters now: acknowledging while assigned, else completing."""

    label: str  # "Acknowledge by" | "Due"
    at: datetime | None
    verb: str  # for "acknowledge in 25 min" | "due in 25 min"

    def overdue(self, now: datetime) -> bool:
        return self.at is not None and self.at < now


def deadline_of(task: TaskSnapshot) -> Deadline:
    if task.status is TaskStatus.ASSIGNED and task.acknowledge_by is not None:
        return Deadline("Acknowledge by", task.acknowledge_by, "acknowledge")
    return Deadline("Due", task.due_by, "due")


def escalation_level(task: TaskSnapshot) -> int:
    """How many escalation steps have run on the task (reminders not counted)."""
    return sum(1 for step in task.escalated if step.startswith(("ack.", "due.")))
