"""Folding events into metrics records (schemas/metrics.py), one event at a time, in any order.

`fold_task(record, event, seq, facts)` is what the projector runs per task event and what
`records_of(events)` runs over an incident's events in stream order: both give the same record,
and folding an event twice, or two events in either order, gives it too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


# A record's fields by name: the record's own (`vars(record)`), or the working copy `records_of`
# folds an incident's events into before it makes the record.
Held = Mapping[str, Any]


def _added(name: str, ids: tuple[str, ...], event_id: str) -> dict[str, Any]:
    return {} if event_id in ids else {name: tuple(sorted((*ids, event_id)))}


def _skipped(held: Held, event: TaskSkipped) -> dict[str, Any]:
    return {} if held["skipped_reason"] == event.reason else {"skipped_reason": event.reason}


def _cancelled(held: Held, event: TaskCancelled) -> dict[str, Any]:
    if held["cancelled_at"] is not None and held["cancelled_at"] <= event.at:
        return {}
    return {"cancelled_at": event.at}


# The first acknowledgement and completion keep the deadlines they were measured against (an
# earlier one found later replaces a later one).


def _acknowledged(held: Held, event: TaskAcknowledged) -> dict[str, Any]:
    if held["acknowledged_at"] is not None and held["acknowledged_at"] <= event.at:
        return {}
    return {
        "acknowledged_at": event.at,
        "acknowledge_by_then": event.task.acknowledge_by,
        "acknowledge_window_then": event.task.acknowledge_window,
    }


def _completed(held: Held, event: TaskCompleted) -> dict[str, Any]:
    if held["completed_at"] is not None and held["completed_at"] <= event.at:
        return {}
    return {
        "completed_at": event.at,
        "due_by_then": event.task.due_by,
        "due_window_then": event.task.due_window,
    }


# What each kind of task event counts, or marks the first of, as changes to the record. Found by
# the event's class: most events of a long incident are none of these (notes, starts).
_TALLIES: dict[type[TaskEvent], Callable[[Held, Any], dict[str, Any]]] = {
    TaskEscalated: lambda held, e: _added("escalations", held["escalations"], e.event_id),
    TaskReminded: lambda held, e: _added("reminders", held["reminders"], e.event_id),
    TaskDeclined: lambda held, e: _added("declines", held["declines"], e.event_id),
    TaskSkipped: _skipped,
    TaskCancelled: _cancelled,
    TaskAcknowledged: _acknowledged,
    TaskCompleted: _completed,
}


def _started(event: TaskEvent, facts: IncidentFacts) -> dict[str, Any]:
    """The fields a task's record starts with, from whichever of its events comes first."""
    task = event.task
    return {
        "task_id": task.task_id,
        "incident_id": task.incident_id,
        "incident_type": facts.incident_type,
        "incident_logged_at": facts.logged_at,
        "created_at": event.at,
        **_current(task, 0),
    }


# What a new record holds of the fields it does not start with.
_UNSET = {
    name: info.default
    for name, info in TaskMetricsRecord.model_fields.items()
    if not info.is_required()
}


def _order_free(held: Held, event: TaskEvent) -> dict[str, Any]:
    """What `event` changes of the fields that do not depend on the order events come in: the
    earliest times, the most assignments, and what it counts or marks the first of."""
    task = event.task
    changes: dict[str, Any] = {}
    if event.at < held["created_at"]:
        changes["created_at"] = event.at
    assigned_at = task.assigned_at
    if assigned_at is not None and (
        held["first_assigned_at"] is None or assigned_at < held["first_assigned_at"]
    ):
        changes["first_assigned_at"] = assigned_at
    if task.assignment > held["assignments"]:
        changes["assignments"] = task.assignment
    tally = _TALLIES.get(type(event))
    if tally is not None:
        changes |= tally(held, event)
    return changes


def fold_task(
    record: TaskMetricsRecord | None, event: TaskEvent, seq: int, facts: IncidentFacts
) -> TaskMetricsRecord:
    """The task's record with `event` (at stream sequence `seq`) folded in."""
    if record is None:
        record = TaskMetricsRecord(**_started(event, facts))
    update = _order_free(vars(record), event)
    if seq > record.seq:
        update |= _current(event.task, seq)
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
    stream sequence). The events start with the incident being logged.

    The records are those `fold_task` gives event by event, folded into a working copy of each
    task's fields that is made the record once, after the last event: in stream order each event
    is the task's latest so far, so what follows the latest state is taken from that last one."""
    facts: IncidentFacts | None = None
    held: dict[str, dict[str, Any]] = {}
    latest: dict[str, tuple[TaskSnapshot, int]] = {}
    plan: FollowUpPlan | None = None
    last: AnyEvent | None = None
    for position, event in enumerate(events, start=1):
        last = event
        if isinstance(event, TaskEvent):
            task = event.task
            fields = held.get(task.task_id)
            if fields is None:
                if facts is None:
                    raise ValueError(
                        f"{event.event_id}: a task event before the incident was logged"
                    )
                fields = held[task.task_id] = _UNSET | _started(event, facts)
            fields.update(_order_free(fields, event))
            latest[task.task_id] = (task, position)
        elif isinstance(event, IncidentLogged):
            facts = IncidentFacts.of(event)
        elif plans_follow_ups(event):
            plan = fold_plan(plan, event)
    if facts is None or last is None:
        raise ValueError("the events do not include the incident being logged")
    folded = tuple(
        TaskMetricsRecord.model_validate(fields | _current(*latest[key]))
        for key, fields in held.items()
    )
    incident_id = last.incident_id
    return IncidentRecords(incident_id, folded, plan or FollowUpPlan(incident_id=incident_id))
