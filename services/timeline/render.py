"""Turning events into timeline entries, as pure functions. A note the reader may not read (the
access policy decides) is never copied into an entry: the entry says it exists and is withheld."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.enums import Tier
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
    TaskEvent,
    TaskNoted,
    TaskReleased,
    TaskReminded,
    TaskSkipped,
    TaskStarted,
)
from schemas.roster import Roster
from schemas.sealed import Sealed
from schemas.tasks import TaskSnapshot
from schemas.views import TimelineEntry
from services.core import access
from services.core.access import Reader
from services.core.trusted import Builder
from services.timeline.describe import describe

WITHHELD = "[restricted: withheld from the timeline]"
UNKNOWN_ACTOR = "unknown"
# An entry of an event this version reads: `recognised` is left at its default.
_ENTRY = Builder(TimelineEntry, unset=("recognised",))


# An event's note: as plain text, or sealed for its author's scope (restricted text).
Note = tuple[str | None, Sealed | None]
NO_NOTE: Note = (None, None)

# What an entry takes of its event: the tier of what it says, its note and who would have
# written it, the task (if any), the phase and the task id.
Parts = tuple[Tier, Note, str | None, TaskSnapshot | None, str | None, str | None]


def _of_task(event: TaskEvent) -> Parts:
    task = event.task
    return task.tier, NO_NOTE, None, task, task.phase, task.task_id


def _of_noted(event: TaskNoted) -> Parts:
    task = event.task
    if not task.notes:
        return _of_task(event)
    last = task.notes[-1]  # the note this event added
    return last.tier, (last.text, last.sealed), last.author, task, task.phase, task.task_id


def _of_completed(event: TaskCompleted) -> Parts:
    task = event.task
    note = (task.note, task.note_sealed)
    return task.tier, note, event.actor, task, task.phase, task.task_id


def _of_declined(event: TaskDeclined) -> Parts:
    task = event.task
    note = (event.reason, event.reason_sealed)
    return task.tier, note, event.actor, task, task.phase, task.task_id


def _of_ending(event: IncidentClosed | PlaybookCancelled) -> Parts:
    # Why a response ended: for command staff and reviewers.
    return Tier.COMMAND, (event.reason, None), event.actor, None, None, None


def _of_finding(event: FindingAdded) -> Parts:
    # What a review found: for command staff and reviewers.
    return Tier.COMMAND, (event.text, None), event.actor, None, event.phase, None


def _of_notice(event: NoticeEvent) -> Parts:
    # Who was reached how, and what failed: for command staff and reviewers.
    tier = Tier.RESTRICTED if event.restricted else Tier.COMMAND
    return tier, NO_NOTE, None, None, None, event.task_id


def _of_incident(event: Event) -> Parts:
    return Tier.PUBLIC, NO_NOTE, None, None, None, None


# Each event type's parts, found by its class (cheaper than trying each type in turn). A type
# missing here is an error, never an entry shown to everyone.
_PARTS: dict[type[Event], Callable[[Any], Parts]] = {
    TaskNoted: _of_noted,
    TaskCompleted: _of_completed,
    TaskDeclined: _of_declined,
    IncidentClosed: _of_ending,
    PlaybookCancelled: _of_ending,
    FindingAdded: _of_finding,
    NoticeSent: _of_notice,
    NoticeFailed: _of_notice,
    **dict.fromkeys(
        (
            TaskCreated,
            TaskSkipped,
            TaskReleased,
            TaskAssigned,
            TaskReminded,
            TaskEscalated,
            TaskCancelled,
            TaskAcknowledged,
            TaskStarted,
        ),
        _of_task,
    ),
    **dict.fromkeys(
        (
            IncidentLogged,
            PlaybookTriggered,
            RunInPlace,
            FollowUpDue,
            DeadlineReached,
            ResponseCompleted,
            RecordSealed,
        ),
        _of_incident,
    ),
}


def parts_of(event: AnyEvent) -> Parts:
    found = _PARTS.get(type(event))
    if found is None:
        raise AssertionError(f"unhandled event {type(event).__name__}")
    return found(event)


@dataclass(frozen=True)
class Reading:
    """Who reads the timeline, against the roster that says who is in which team."""

    reader: Reader
    roster: Roster
    # What the policy answered, per (tier, author, assignee, scope sealed for): its answer
    # depends on nothing else for one reader and roster, and a long incident asks the same
    # few questions thousands of times. None: the reader reads the note as it is.
    _answers: dict[tuple[Tier, str | None, str | None, str | None], Note | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def note(self, tier: Tier, note: Note, author: str | None, assignee: str | None) -> Note:
        """The note as this reader sees it: as it is (a sealed one still sealed), a marker in
        place of restricted text, or nothing."""
        sealed_for = note[1].scope if note[1] is not None else None
        asked = (tier, author, assignee, sealed_for)
        if asked in self._answers:
            shown = self._answers[asked]
        else:
            shown = self._answers[asked] = self._decide(*asked)
        return note if shown is None else shown

    def _decide(
        self, tier: Tier, author: str | None, assignee: str | None, sealed_for: str | None
    ) -> Note | None:
        if access.may_read(self.reader, self.roster, tier, author, assignee, sealed_for):
            return None
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
    tier, note, author, task, phase, task_id = parts_of(event)
    has_note = bool(note[0]) or note[1] is not None
    if not has_note:
        author = None
    assignee = task.assignee if task is not None else None
    shown = note
    if has_note and reading is not None:
        shown = reading.note(tier, note, author, assignee)
    elif has_note and tier is Tier.RESTRICTED:
        shown = (WITHHELD, None)
    # Every value is already of its field's type: the stream sequence, a value of the event
    # (validated when it was read or built), or one made here of such values. So the entry is not
    # validated again (services/core/trusted.py): that was a third of a long incident's timeline.
    return _ENTRY(
        {
            "seq": seq,
            "at": event.at,
            "type": event.type,
            "actor": event.actor,
            "text": describe(event, skipped),
            "task_id": task_id,
            "tier": tier,
            "note": shown[0],
            "note_sealed": shown[1],
            "note_by": author,
            "role": task.role if task is not None else None,
            "phase": phase,
            "assignee": assignee,
            "redacted": shown != note,
            "recognised": True,
        }
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


def entries(
    events: Sequence[tuple[AnyEvent, int]], reading: Reading | None = None
) -> tuple[TimelineEntry, ...]:
    # A fan-out records its creations and skips together, so a task's creation may come before
    # the skip of a prerequisite: the whole run's skips are known before any entry is written.
    skipped = frozenset(e.task.key for e, _ in events if isinstance(e, TaskSkipped))
    return tuple(entry(event, seq, skipped, reading) for event, seq in events)
