"""The line a timeline entry says about its event, as a pure function.

Each event type has its own describer, found by the event's class: a long incident is mostly
notes and notices, and trying every other type on each of them first was most of the cost."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from schemas.base import split_task_id
from schemas.events import (
    AnyEvent,
    DeadlineReached,
    Event,
    FindingAdded,
    FollowUpDue,
    IncidentClosed,
    IncidentLogged,
    NoticeEvent,
    NoticeFailed,
    NoticeSent,
    PlaybookCancelled,
    PlaybookTriggered,
    RecordSealed,
    ResponseCompleted,
    RunInPlace,
    TaskAcknowledged,
    TaskAssigned,
    TaskCancelled,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
    TaskEscalated,
    TaskNoted,
    TaskReleased,
    TaskReminded,
    TaskSkipped,
    TaskStarted,
)
from schemas.notifications import Channel, NoticeKind


def describe(event: AnyEvent, skipped: frozenset[str] = frozenset()) -> str:
    """What happened, in one line. `skipped` holds the keys of the run's skipped tasks."""
    describer = _DESCRIBERS.get(type(event))
    if describer is None:
        raise AssertionError(f"unhandled event {type(event).__name__}")
    return describer(event, skipped)


def _waits(depends_on: Sequence[str], skipped: frozenset[str]) -> str:
    """What a new task waits for, leaving out prerequisites that were skipped."""
    pending = [k for k in depends_on if k not in skipped]
    gone = [k for k in depends_on if k in skipped]
    if not depends_on:
        return ""
    if not pending:
        return f"; its prerequisites were skipped ({', '.join(gone)}), so it is released at once"
    also = f" ({', '.join(gone)} skipped)" if gone else ""
    return f"; waits for {', '.join(pending)}{also}"


def _logged(event: IncidentLogged, skipped: frozenset[str]) -> str:
    return f"Incident logged: {event.incident_type}, severity {event.severity}"


def _closed(event: IncidentClosed, skipped: frozenset[str]) -> str:
    return f"{event.actor} closed the incident; open tasks cancelled, nothing pending fires"


def _task_cancelled(event: TaskCancelled, skipped: frozenset[str]) -> str:
    if event.cause == "playbook_cancelled":
        return f"Task {event.task.key} cancelled: its playbook was cancelled"
    return f"Task {event.task.key} cancelled: the incident was closed"


def _playbook_cancelled(event: PlaybookCancelled, skipped: frozenset[str]) -> str:
    return (
        f"{event.actor} cancelled playbook {event.playbook_id}; its open tasks are "
        "cancelled and nothing of it fires later"
    )


def _triggered(event: PlaybookTriggered, skipped: frozenset[str]) -> str:
    how = "automatically" if event.trigger == "automatic" else "by hand"
    return (
        f"Playbook {event.playbook_id} (version {event.version}) triggered {how}: "
        f"{len(event.tasks)} tasks"
    )


def _in_place(event: RunInPlace, skipped: frozenset[str]) -> str:
    return (
        f"Response in place: {event.created} tasks out, {event.skipped} skipped, "
        f"{event.follow_ups} follow-ups scheduled"
    )


def _created(event: TaskCreated, skipped: frozenset[str]) -> str:
    task = event.task
    if task.corrective_action:
        due = f", due {task.due_by:%Y-%m-%d %H:%M} UTC" if task.due_by else ""
        return f"{event.actor} gave corrective action {task.key} to {task.assignee}{due}"
    who = task.assignee or "nobody (unassigned)"
    return f"Task {task.key} ({task.role}) created for {who}" + _waits(task.depends_on, skipped)


_FINDING_KINDS = {"strength": "a strength", "improvement": "an area for improvement"}


def _finding(event: FindingAdded, skipped: frozenset[str]) -> str:
    about = event.family or event.phase
    what = f" ({'family' if event.family else 'phase'} {about})" if about else ""
    return f"{event.actor} recorded {_FINDING_KINDS[event.kind]}{what}"


def _assigned(event: TaskAssigned, skipped: frozenset[str]) -> str:
    if event.actor == event.task.assignee:
        return f"{event.actor} claimed {event.task.key}"
    if event.actor != "engine":
        return f"{event.actor} assigned {event.task.key} to {event.task.assignee}"
    return f"Task {event.task.key} reassigned to {event.task.assignee}"


def _escalation(event: TaskEscalated, skipped: frozenset[str]) -> str:
    missed = "not acknowledged" if event.deadline == "acknowledge" else "not completed"
    head = f"Escalation step {event.step} for {event.task.key} ({missed} in time)"
    match event.action:
        case "remind":
            return f"{head}: reminded {', '.join(event.notify) or 'nobody'}"
        case "reassign":
            return f"{head}: reassigned from {event.missed_by} to {event.task.assignee or 'nobody'}"
        case "notify_coordinator":
            return f"{head}: told the role's coordinators {', '.join(event.notify) or '(none)'}"
        case "notify_command":
            return f"{head}: told command staff {', '.join(event.notify) or '(none)'}"
    return f"{head}: called the escalation webhook"


# The recipient an escalation chain's webhook step is recorded under (services.notifier).
_ESCALATION_WEBHOOK = "escalation-webhook"
_SENT = {
    Channel.INBOX: "Notified {who} in the inbox",
    Channel.EMAIL: "Emailed {who}",
    Channel.WEBHOOK: "Called {who}'s webhook",
    Channel.APPRISE: "Messaged {who} through Apprise",
}
_FAILED = {
    Channel.INBOX: "Could not notify {who} in the inbox",
    Channel.EMAIL: "Could not email {who}",
    Channel.WEBHOOK: "Could not call {who}'s webhook",
    Channel.APPRISE: "Could not message {who} through Apprise",
}
_ABOUT = {
    NoticeKind.ASSIGNED: "",
    NoticeKind.REMINDER: " (reminder)",
    NoticeKind.ACKNOWLEDGE_OVERDUE: " (not acknowledged in time)",
    NoticeKind.ESCALATED_TO_YOU: " (reassigned to them)",
    NoticeKind.ESCALATION: " (escalation)",
    NoticeKind.DELIVERY_FAILED: " (someone could not be reached)",
}
_ERROR_SHOWN = 200


def _notice(event: NoticeEvent, skipped: frozenset[str]) -> str:
    """One line per delivery, naming the person and the channel, never an address."""
    key = split_task_id(event.task_id)[1]
    if event.recipient == _ESCALATION_WEBHOOK:
        done = "Called" if isinstance(event, NoticeSent) else "Could not call"
        head = f"{done} the escalation webhook"
    else:
        forms = _SENT if isinstance(event, NoticeSent) else _FAILED
        head = forms[event.channel].format(who=event.recipient)
    line = f"{head} about {key}{_ABOUT[event.kind]}"
    if isinstance(event, NoticeFailed):
        tries = "" if event.attempt == 1 else f" after {event.attempt} tries"
        line += f"{tries}: {event.error[:_ERROR_SHOWN]}"
    return line


# Each event type's describer. The values take the key's type; `Any` lets one table hold them.
_DESCRIBERS: dict[type[Event], Callable[[Any, frozenset[str]], str]] = {
    IncidentLogged: _logged,
    IncidentClosed: _closed,
    TaskCancelled: _task_cancelled,
    PlaybookCancelled: _playbook_cancelled,
    PlaybookTriggered: _triggered,
    RunInPlace: _in_place,
    TaskCreated: _created,
    FindingAdded: _finding,
    TaskSkipped: lambda e, _: f"Task {e.task.key} skipped: {e.reason}",
    # A timer's body; it lives in the timers stream only.
    DeadlineReached: lambda e, _: f"Deadline step {e.kind} {e.number} of {e.task_key} came",
    FollowUpDue: lambda e, _: f"Follow-up {e.number} of {e.parent_key} came due",
    TaskReleased: lambda e, _: (
        f"Task {e.task.key} released to {e.task.assignee}: prerequisites complete"
    ),
    TaskAssigned: _assigned,
    TaskReminded: lambda e, _: (
        f"Reminder to {e.task.assignee}: {e.task.key} is due {e.due_by:%Y-%m-%d %H:%M} UTC"
    ),
    TaskEscalated: _escalation,
    TaskNoted: lambda e, _: f"{e.actor} added a note to {e.task.key}",
    TaskAcknowledged: lambda e, _: f"{e.actor} acknowledged {e.task.key}",
    TaskStarted: lambda e, _: f"{e.actor} started {e.task.key}",
    TaskCompleted: lambda e, _: f"{e.actor} completed {e.task.key}",
    TaskDeclined: lambda e, _: f"{e.actor} declined {e.task.key}; it returns to the pool",
    ResponseCompleted: lambda e, _: (
        f"Response complete: all {e.completed_tasks} required tasks done"
    ),
    NoticeSent: _notice,
    NoticeFailed: _notice,
    RecordSealed: lambda e, _: f"Record sealed: {e.events} events pinned, digest {e.digest[:12]}",
}
