"""Turning events into timeline entries, as pure functions. A note the reader may not read (the
access policy decides) is never copied into an entry: the entry says it exists and is withheld."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.base import split_task_id
from schemas.enums import Tier
from schemas.events import (
    AnyEvent,
    DeadlineReached,
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
    TaskEvent,
    TaskNoted,
    TaskReleased,
    TaskReminded,
    TaskSkipped,
    TaskStarted,
)
from schemas.notifications import Channel, NoticeKind
from schemas.roster import Roster
from schemas.sealed import Sealed
from schemas.views import TimelineEntry
from services.core import access
from services.core.access import Reader

WITHHELD = "[restricted: withheld from the timeline]"
UNKNOWN_ACTOR = "unknown"


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


def describe(event: AnyEvent, skipped: frozenset[str] = frozenset()) -> str:
    match event:
        case IncidentLogged():
            return f"Incident logged: {event.incident_type}, severity {event.severity}"
        case IncidentClosed():
            return f"{event.actor} closed the incident; open tasks cancelled, nothing pending fires"
        case TaskCancelled() if event.cause == "playbook_cancelled":
            return f"Task {event.task.key} cancelled: its playbook was cancelled"
        case TaskCancelled():
            return f"Task {event.task.key} cancelled: the incident was closed"
        case PlaybookCancelled():
            return (
                f"{event.actor} cancelled playbook {event.playbook_id}; its open tasks are "
                "cancelled and nothing of it fires later"
            )
        case PlaybookTriggered():
            how = "automatically" if event.trigger == "automatic" else "by hand"
            return (
                f"Playbook {event.playbook_id} (version {event.version}) triggered {how}: "
                f"{len(event.tasks)} tasks"
            )
        case RunInPlace():
            return (
                f"Response in place: {event.created} tasks out, {event.skipped} skipped, "
                f"{event.follow_ups} follow-ups scheduled"
            )
        case TaskCreated() if event.task.corrective_action:
            task = event.task
            due = f", due {task.due_by:%Y-%m-%d %H:%M} UTC" if task.due_by else ""
            return f"{event.actor} gave corrective action {task.key} to {task.assignee}{due}"
        case FindingAdded():
            return _finding(event)
        case TaskCreated():
            task = event.task
            who = task.assignee or "nobody (unassigned)"
            return f"Task {task.key} ({task.role}) created for {who}" + _waits(
                task.depends_on, skipped
            )
        case TaskSkipped():
            return f"Task {event.task.key} skipped: {event.reason}"
        case DeadlineReached():  # a timer's body; it lives in the timers stream only
            return f"Deadline step {event.kind} {event.number} of {event.task_key} came"
        case FollowUpDue():
            return f"Follow-up {event.number} of {event.parent_key} came due"
        case TaskReleased():
            return (
                f"Task {event.task.key} released to {event.task.assignee}: prerequisites complete"
            )
        case TaskAssigned() if event.actor == event.task.assignee:
            return f"{event.actor} claimed {event.task.key}"
        case TaskAssigned() if event.actor != "engine":
            return f"{event.actor} assigned {event.task.key} to {event.task.assignee}"
        case TaskAssigned():
            return f"Task {event.task.key} reassigned to {event.task.assignee}"
        case TaskReminded():
            return (
                f"Reminder to {event.task.assignee}: {event.task.key} is due "
                f"{event.due_by:%Y-%m-%d %H:%M} UTC"
            )
        case TaskEscalated():
            return _escalation(event)
        case TaskNoted():
            return f"{event.actor} added a note to {event.task.key}"
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
        case NoticeSent() | NoticeFailed():
            return _notice(event)
        case RecordSealed():
            return f"Record sealed: {event.events} events pinned, digest {event.digest[:12]}"
    raise AssertionError(f"unhandled event {type(event).__name__}")


_FINDING_KINDS = {"strength": "a strength", "improvement": "an area for improvement"}


def _finding(event: FindingAdded) -> str:
    about = event.family or event.phase
    what = f" ({'family' if event.family else 'phase'} {about})" if about else ""
    return f"{event.actor} recorded {_FINDING_KINDS[event.kind]}{what}"


def _escalation(event: TaskEscalated) -> str:
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


def _notice(event: NoticeEvent) -> str:
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


# An event's note: as plain text, or sealed for its author's scope (restricted text).
Note = tuple[str | None, Sealed | None]
NO_NOTE: Note = (None, None)


def _note(event: AnyEvent) -> Note:
    if isinstance(event, IncidentClosed | PlaybookCancelled):
        return event.reason, None
    if isinstance(event, FindingAdded):
        return event.text, None
    if isinstance(event, TaskNoted) and event.task.notes:
        last = event.task.notes[-1]
        return last.text, last.sealed
    if isinstance(event, TaskCompleted):
        return event.task.note, event.task.note_sealed
    if isinstance(event, TaskDeclined):
        return event.reason, event.reason_sealed
    return NO_NOTE


def _author(event: AnyEvent) -> str | None:
    """Who wrote the event's note: a note's author, else whoever acted."""
    if isinstance(event, TaskNoted) and event.task.notes:
        return event.task.notes[-1].author
    return event.actor


@dataclass(frozen=True)
class Reading:
    """Who reads the timeline, against the roster that says who is in which team."""

    reader: Reader
    roster: Roster

    def note(self, tier: Tier, note: Note, author: str | None, assignee: str | None) -> Note:
        """The note as this reader sees it: as it is (a sealed one still sealed), a marker in
        place of restricted text, or nothing."""
        sealed_for = note[1].scope if note[1] is not None else None
        if access.may_read(self.reader, self.roster, tier, author, assignee, sealed_for):
            return note
        if tier is Tier.RESTRICTED:
            return access.withheld(self.roster, author, sealed_for), None
        return NO_NOTE


def entry(
    event: AnyEvent,
    seq: int,
    skipped: frozenset[str] = frozenset(),
    reading: Reading | None = None,
) -> TimelineEntry:
    """The entry for `event` as `reading` may see it (without one, restricted notes are
    withheld and the rest shown)."""
    tier = event.task.tier if isinstance(event, TaskEvent) else Tier.PUBLIC
    if isinstance(event, IncidentClosed | PlaybookCancelled | FindingAdded):
        # Why a response ended, and what its review found: for command staff and reviewers.
        tier = Tier.COMMAND
    if isinstance(event, NoticeEvent):
        # Who was reached how, and what failed: for command staff and reviewers.
        tier = Tier.RESTRICTED if event.restricted else Tier.COMMAND
    if isinstance(event, TaskNoted) and event.task.notes:
        tier = event.task.notes[-1].tier
    note = _note(event)
    has_note = bool(note[0]) or note[1] is not None
    author = _author(event) if has_note else None
    task = event.task if isinstance(event, TaskEvent) else None
    assignee = task.assignee if task is not None else None
    shown = note
    if has_note and reading is not None:
        shown = reading.note(tier, note, author, assignee)
    elif has_note and tier is Tier.RESTRICTED:
        shown = (WITHHELD, None)
    return TimelineEntry(
        seq=seq,
        at=event.at,
        type=event.type,
        actor=event.actor,
        text=describe(event, skipped),
        task_id=_task_of(event),
        tier=tier,
        note=shown[0],
        note_sealed=shown[1],
        note_by=author,
        redacted=shown != note,
        role=task.role if task is not None else None,
        phase=_phase_of(event),
        assignee=assignee,
    )


def _phase_of(event: AnyEvent) -> str | None:
    if isinstance(event, FindingAdded):
        return event.phase
    return event.task.phase if isinstance(event, TaskEvent) else None


def _task_of(event: AnyEvent) -> str | None:
    if isinstance(event, TaskEvent):
        return event.task.task_id
    return event.task_id if isinstance(event, NoticeEvent) else None


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


def entries(
    events: Sequence[tuple[AnyEvent, int]], reading: Reading | None = None
) -> tuple[TimelineEntry, ...]:
    # A fan-out records its creations and skips together, so a task's creation may come before
    # the skip of a prerequisite: the whole run's skips are known before any entry is written.
    skipped = frozenset(e.task.key for e, _ in events if isinstance(e, TaskSkipped))
    return tuple(entry(event, seq, skipped, reading) for event, seq in events)
