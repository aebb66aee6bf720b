"""Turning events into timeline entries, as pure functions. A restricted note is never copied
into an entry: the entry says it exists and that it is withheld."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from schemas.enums import Tier
from schemas.events import (
    AnyEvent,
    FollowUpDue,
    IncidentLogged,
    PlaybookTriggered,
    ResponseCompleted,
    TaskAcknowledged,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
    TaskEvent,
    TaskReleased,
    TaskSkipped,
    TaskStarted,
)
from schemas.views import TimelineEntry

WITHHELD = "[restricted: withheld from the timeline]"
UNKNOWN_ACTOR = "unknown"


def describe(event: AnyEvent) -> str:
    match event:
        case IncidentLogged():
            return f"Incident logged: {event.incident_type}, severity {event.severity}"
        case PlaybookTriggered():
            how = "automatically" if event.trigger == "automatic" else "by hand"
            return (
                f"Playbook {event.playbook_id} (version {event.version}) triggered {how}: "
                f"{len(event.tasks)} tasks"
            )
        case TaskCreated():
            task = event.task
            who = task.assignee or "nobody (unassigned)"
            waiting = f"; waits for {', '.join(task.depends_on)}" if task.depends_on else ""
            return f"Task {task.key} ({task.role}) created for {who}{waiting}"
        case TaskSkipped():
            return f"Task {event.task.key} skipped: {event.reason}"
        case FollowUpDue():
            return f"Follow-up {event.number} of {event.parent_key} came due"
        case TaskReleased():
            return (
                f"Task {event.task.key} released to {event.task.assignee}: prerequisites complete"
            )
        case TaskAssigned():
            return f"Task {event.task.key} reassigned to {event.task.assignee}"
        case TaskAcknowledged():
            return f"{event.actor} acknowledged {event.task.key}"
        case TaskStarted():
            return f"{event.actor} started {event.task.key}"
        case TaskCompleted():
            return f"{event.actor} completed {event.task.key}"
        case TaskDeclined():
            return f"{event.actor} declined {event.task.key}; it returns to the pool"
        case ResponseCompleted():
            return f"Response complete: all {event.completed_tasks} required tasks done"
    raise AssertionError(f"unhandled event {type(event).__name__}")


def _note(event: AnyEvent) -> str | None:
    if isinstance(event, TaskCompleted):
        return event.task.note
    if isinstance(event, TaskDeclined):
        return event.reason
    return None


def entry(event: AnyEvent, seq: int) -> TimelineEntry:
    tier = event.task.tier if isinstance(event, TaskEvent) else Tier.PUBLIC
    note = _note(event)
    redacted = bool(note) and tier is Tier.RESTRICTED
    return TimelineEntry(
        seq=seq,
        at=event.at,
        type=event.type,
        actor=event.actor,
        text=describe(event),
        task_id=event.task.task_id if isinstance(event, TaskEvent) else None,
        tier=tier,
        note=WITHHELD if redacted else note,
        redacted=redacted,
    )


def unrecognised_entry(event_type: str | None, at: datetime, seq: int) -> TimelineEntry:
    """An event this version cannot read (a newer version wrote it). Its body could hold
    anything, restricted notes included, so nothing from it is shown but the type it claims."""
    return TimelineEntry(
        seq=seq,
        at=at,
        type=event_type or "unknown",
        actor=UNKNOWN_ACTOR,
        text=f"Unrecognised event {event_type or '(no type)'}: this version cannot read it",
        recognised=False,
    )


def entries(events: Sequence[tuple[AnyEvent, int]]) -> tuple[TimelineEntry, ...]:
    return tuple(entry(event, seq) for event, seq in events)
