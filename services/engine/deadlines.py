"""Deadlines that fire, as pure functions: which timers a task needs in its current state, and
what a timer that fired does. A timer is one reminder or one escalation step of one assignment;
the task records each it ran (`escalated`), so a timer fired twice, late, for an earlier
assignee, or after the task was acknowledged or completed, does nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from schemas.enums import TaskStatus
from schemas.escalation import EscalationAction, EscalationChain, flattened
from schemas.events import DeadlineReached, TaskEscalated, TaskReminded
from schemas.tasks import TaskSnapshot
from services.engine import clock

TimerKind = Literal["ack", "due", "remind"]
# Acknowledge escalation stops the moment the task is acknowledged; due escalation and
# reminders run until it is completed.
WAITING_FOR_ACK = (TaskStatus.ASSIGNED,)
WAITING_FOR_DONE = (TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Timer:
    kind: TimerKind
    assignment: int
    number: int
    at: datetime

    @property
    def token(self) -> str:
        return token(self.kind, self.assignment, self.number)


def token(kind: TimerKind, assignment: int, number: int) -> str:
    return f"{assignment}-{kind}-{number}"


def done_key(kind: TimerKind, assignment: int, number: int) -> str:
    return f"{kind}.{assignment}.{number}"


def timers_for(task: TaskSnapshot, chain: EscalationChain, scale: float) -> list[Timer]:
    """Every reminder and escalation step the task's current assignment still has to come."""
    if task.assignee is None or task.assigned_at is None:
        return []
    found: list[Timer] = []
    if task.status in WAITING_FOR_DONE and task.due_by is not None:
        for number, before in enumerate(chain.remind_before_due, start=1):
            at = task.due_by - before * scale
            if at > task.assigned_at:  # a window shorter than the reminder gets none
                found.append(Timer("remind", task.assignment, number, at))
        found += _steps("due", task, task.due_by, chain, scale)
    if task.status in WAITING_FOR_ACK and task.acknowledge_by is not None:
        found += _steps("ack", task, task.acknowledge_by, chain, scale)
    return [t for t in found if done_key(t.kind, t.assignment, t.number) not in task.escalated]


def _steps(
    kind: TimerKind,
    task: TaskSnapshot,
    deadline: datetime,
    chain: EscalationChain,
    scale: float,
) -> list[Timer]:
    """After a reassignment, the new assignee's chain goes on from the step after it, counted
    from their own deadline."""
    steps = flattened(chain)
    start = task.escalation_from
    base = steps[start - 1].after_deadline if 0 < start <= len(steps) else timedelta(0)
    return [
        Timer(kind, task.assignment, flat.number, deadline + (flat.after_deadline - base) * scale)
        for flat in steps[start:]
    ]


def in_order(task: TaskSnapshot, fired: DeadlineReached) -> list[DeadlineReached]:
    """The fired step, preceded by the earlier steps of its chain that have not run yet: after
    an outage every past timer fires at once, and the steps must still run in their order (a
    reassignment before it makes a later step of the old assignee's chain moot)."""
    if fired.kind == "remind" or fired.assignment != task.assignment:
        return [fired]
    earlier = [
        fired.model_copy(update={"number": number})
        for number in range(task.escalation_from + 1, fired.number)
        if done_key(fired.kind, fired.assignment, number) not in task.escalated
    ]
    return [*earlier, fired]


def action_of(fired: DeadlineReached, chain: EscalationChain) -> EscalationAction | None:
    """The chain step a fired escalation timer stands for; None for a reminder, or a step the
    chain no longer has."""
    if fired.kind == "remind":
        return None
    steps = flattened(chain)
    return steps[fired.number - 1].step.action if fired.number <= len(steps) else None


@dataclass(frozen=True)
class People:
    """Whom a step may involve, worked out by the caller from the roster and the run — only
    what the step's action needs (see `action_of`); the rest stays empty."""

    next_assignee: str | None = None  # the next eligible person, for `reassign`
    coordinators: tuple[str, ...] = ()
    command_staff: tuple[str, ...] = ()


def decide(
    task: TaskSnapshot,
    fired: DeadlineReached,
    chain: EscalationChain,
    people: People,
    now: datetime,
) -> TaskReminded | TaskEscalated | None:
    """What the timer does to the task now, or None when it no longer applies."""
    key = done_key(fired.kind, fired.assignment, fired.number)
    if fired.assignment != task.assignment or key in task.escalated or task.assignee is None:
        return None
    open_states = WAITING_FOR_ACK if fired.kind == "ack" else WAITING_FOR_DONE
    if task.status not in open_states:
        return None
    marked = task.model_copy(update={"escalated": (*task.escalated, key)})
    event_id = f"{task.task_id}.escalated.{key}"
    if fired.kind == "remind":
        if task.due_by is None:
            return None
        return TaskReminded(
            event_id=event_id,
            incident_id=task.incident_id,
            actor="engine",
            at=now,
            task=marked,
            due_by=task.due_by,
        )
    steps = flattened(chain)
    if fired.number > len(steps):
        return None  # the chain was shortened since this timer was set
    step = steps[fired.number - 1].step
    notify: tuple[str, ...] = ()
    snapshot = marked
    match step.action:
        case "remind":
            notify = (task.assignee,)
        case "reassign" if people.next_assignee is not None:
            snapshot = clock.handed_to(
                marked, people.next_assignee, now, escalation_from=fired.number
            )
            notify = (people.next_assignee,)
        case "notify_coordinator":
            notify = people.coordinators
        case "notify_command":
            notify = people.command_staff
    return TaskEscalated(
        event_id=event_id,
        incident_id=task.incident_id,
        actor="engine",
        at=now,
        task=snapshot,
        deadline="acknowledge" if fired.kind == "ack" else "due",
        step=fired.number,
        action=step.action,
        notify=notify,
        missed_by=task.assignee,
        webhook_url=step.url,
    )
