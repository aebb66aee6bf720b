"""Folding events into metrics records (schemas/metrics.py), one event at a time, in any order.

`fold_task(record, event, seq, facts)` is what the projector runs per task event and what
`records_of(events)` runs over an incident's events in stream order: both give the same record,
and folding an event twice, or two events in either order, gives it too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.events import (
    AnyEvent,
    IncidentClosed,
    IncidentLogged,
    PlaybookCancelled,
    PlaybookTriggered,
    TaskAcknowledged,
    TaskCancelled,
    TaskCompleted,
    TaskDeclined,
    TaskEscalated,
    TaskEvent,
    TaskReminded,
    TaskSkipped,
)
from schemas.metrics import FollowUpPlan, PlannedFollowUp, TaskMetricsRecord
from schemas.tasks import TaskSnapshot


@dataclass(frozen=True)
class IncidentFacts:
    """What a task's record carries of its incident, so queries filter without reading it."""

    incident_type: str
    logged_at: datetime

    @classmethod
    def of(cls, logged: IncidentLogged) -> IncidentFacts:
        return cls(logged.incident_type, logged.at)


def _current(task: TaskSnapshot, seq: int) -> dict[str, Any]:
    """The fields that follow the task's latest state."""
    return {
        "exercise": task.exercise,
        "key": task.key,
        "title": task.title,
        "role": task.role,
        "phase": task.phase,
        "tier": task.tier,
        "required": task.required,
        "follow_up_of": task.follow_up_of,
        "seq": seq,
        "status": task.status,
        "acknowledge_by": task.acknowledge_by,
        "acknowledge_window": task.acknowledge_window,
        "due_by": task.due_by,
        "due_window": task.due_window,
    }


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _with(ids: tuple[str, ...], event_id: str) -> tuple[str, ...]:
    return ids if event_id in ids else tuple(sorted((*ids, event_id)))


def _counted(record: TaskMetricsRecord, event: TaskEvent) -> dict[str, Any]:
    match event:
        case TaskEscalated():
            return {"escalations": _with(record.escalations, event.event_id)}
        case TaskReminded():
            return {"reminders": _with(record.reminders, event.event_id)}
        case TaskDeclined():
            return {"declines": _with(record.declines, event.event_id)}
        case TaskSkipped():
            return {"skipped_reason": event.reason}
        case TaskCancelled():
            return {"cancelled_at": _earliest(record.cancelled_at, event.at)}
    return {}


def _firsts(record: TaskMetricsRecord, event: TaskEvent) -> dict[str, Any]:
    """The first acknowledgement and completion keep the deadlines they were measured against
    (an earlier one found later replaces a later one)."""
    task = event.task
    if isinstance(event, TaskAcknowledged) and (
        record.acknowledged_at is None or event.at < record.acknowledged_at
    ):
        return {
            "acknowledged_at": event.at,
            "acknowledge_by_then": task.acknowledge_by,
            "acknowledge_window_then": task.acknowledge_window,
        }
    if isinstance(event, TaskCompleted) and (
        record.completed_at is None or event.at < record.completed_at
    ):
        return {
            "completed_at": event.at,
            "due_by_then": task.due_by,
            "due_window_then": task.due_window,
        }
    return {}


def fold_task(
    record: TaskMetricsRecord | None, event: TaskEvent, seq: int, facts: IncidentFacts
) -> TaskMetricsRecord:
    """The task's record with `event` (at stream sequence `seq`) folded in."""
    task = event.task
    if record is None:
        record = TaskMetricsRecord(
            task_id=task.task_id,
            incident_id=task.incident_id,
            incident_type=facts.incident_type,
            incident_logged_at=facts.logged_at,
            created_at=event.at,
            **_current(task, 0),
        )
    update: dict[str, Any] = {
        "created_at": min(record.created_at, event.at),
        "first_assigned_at": _earliest(record.first_assigned_at, task.assigned_at),
        "assignments": max(record.assignments, task.assignment),
        **_counted(record, event),
        **_firsts(record, event),
    }
    if seq > record.seq:
        update |= _current(task, seq)
    return record.model_copy(update=update)


def _planned(run: PlaybookTriggered) -> tuple[PlannedFollowUp, ...]:
    """Every follow-up the run schedules (as the engine does: from when the incident was
    logged, scaled), before knowing which parent tasks are skipped."""
    return tuple(
        PlannedFollowUp(
            task_key=f"{template.key}-follow-up-{number}",
            parent_key=template.key,
            run=run.run,
            due_at=run.incident_logged_at + run.scaled(offset),
        )
        for template in run.tasks
        if template.follow_ups is not None
        for number, offset in enumerate(template.follow_ups.after, start=1)
    )


def plans_follow_ups(event: AnyEvent) -> bool:
    return isinstance(event, PlaybookTriggered | PlaybookCancelled | IncidentClosed)


def fold_plan(plan: FollowUpPlan | None, event: AnyEvent) -> FollowUpPlan:
    """The incident's follow-up plan with `event` folded in (order-free, like `fold_task`)."""
    plan = plan or FollowUpPlan(incident_id=event.incident_id)
    match event:
        case PlaybookTriggered():
            merged = {(p.run, p.task_key): p for p in (*plan.planned, *_planned(event))}
            return plan.model_copy(update={"planned": tuple(merged[k] for k in sorted(merged))})
        case PlaybookCancelled() if event.run not in plan.cancelled_runs:
            runs = tuple(sorted((*plan.cancelled_runs, event.run)))
            return plan.model_copy(update={"cancelled_runs": runs})
        case IncidentClosed():
            return plan.model_copy(update={"closed": True})
    return plan


@dataclass(frozen=True)
class IncidentRecords:
    incident_id: str
    tasks: tuple[TaskMetricsRecord, ...]
    plan: FollowUpPlan


def records_of(events: Iterable[AnyEvent]) -> IncidentRecords:
    """An incident's records from its events in stream order (the position stands for the
    stream sequence). The events start with the incident being logged."""
    facts: IncidentFacts | None = None
    tasks: dict[str, TaskMetricsRecord] = {}
    plan: FollowUpPlan | None = None
    incident_id = ""
    for position, event in enumerate(events, start=1):
        incident_id = event.incident_id
        if isinstance(event, IncidentLogged):
            facts = IncidentFacts.of(event)
        elif isinstance(event, TaskEvent):
            if facts is None:
                raise ValueError(f"{event.event_id}: a task event before the incident was logged")
            key = event.task.task_id
            tasks[key] = fold_task(tasks.get(key), event, position, facts)
        elif plans_follow_ups(event):
            plan = fold_plan(plan, event)
    if facts is None:
        raise ValueError("the events do not include the incident being logged")
    return IncidentRecords(
        incident_id, tuple(tasks.values()), plan or FollowUpPlan(incident_id=incident_id)
    )
