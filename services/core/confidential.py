"""Restricted text at the edge: sealed before a command is sent, opened for a permitted reader.

Whoever talks to people — the web gateway for signed-in people, the command line for its
operator — seals a command's restricted text with the key of its author's scope
(`seal_command`), so commands, events, buckets and dead letters only ever hold the envelope.
The services hold no keys: they hand a sealed text, still sealed, to the readers the access
policy allows (`access.task_view`, the timeline), and `open_view` opens it for them at the edge.
Everyone else gets the withheld marker and never the envelope.

Each text is sealed bound to its context — the task, its author and which text it is — so a
ciphertext copied onto another task, author or field does not open.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar, overload

from schemas.commands import ActOnTask, Command, NoteTask, TaskVerb
from schemas.enums import Tier
from schemas.roster import Roster
from schemas.sealed import Sealed
from schemas.tasks import TaskNote, TaskSnapshot
from schemas.views import Timeline, TimelineEntry
from services.core.access import scope_of
from services.core.logging import get_logger
from services.core.sealing import Erased, Keyring, SealBroken

log = get_logger(__name__)

ERASED = "[restricted: erased]"
BROKEN = "[restricted: altered or moved; it does not open]"

CommandT = TypeVar("CommandT", bound=Command)


class TextField(StrEnum):
    """Which text of a task a sealed text is: part of what it is bound to."""

    NOTE = "note"  # a note added along the way
    COMPLETION_NOTE = "completion_note"
    DECLINE_REASON = "decline_reason"


# Where a timeline entry's note comes from, by event type.
_ENTRY_FIELDS = {
    "task.noted": TextField.NOTE,
    "task.completed": TextField.COMPLETION_NOTE,
    "task.declined": TextField.DECLINE_REASON,
}


class CannotSeal(ValueError):
    """The text has nobody to be sealed for; the message says why in one line."""


def context(task_id: str, author: str, field: TextField) -> dict[str, str]:
    """What a sealed text is bound to (the associated data, with its scope and key id)."""
    return {"task": task_id, "author": author, "field": field.value}


def sealed_marker(sealed: Sealed) -> str:
    """What to show for an envelope nobody here can open."""
    return f"[restricted: visible to {sealed.scope} only]"


# ---- sealing, before a command is sent -------------------------------------------------------


def seal_text(
    keyring: Keyring, roster: Roster, task_id: str, author: str, field: TextField, text: str
) -> Sealed:
    """`text`, sealed for its author's scope (their team, else their organisation)."""
    scope = scope_of(roster, author)
    if scope is None:
        raise CannotSeal(
            f"{author} belongs to no team or organisation on the roster in force, so there is "
            "nobody to keep restricted text for"
        )
    return keyring.seal(scope, text, context(task_id, author, field))


def has_restricted_text(command: Command, task_tier: Tier | None) -> bool:
    """Whether `seal_command` would seal something (so the caller need not fetch a roster)."""
    if isinstance(command, NoteTask):
        return command.tier is Tier.RESTRICTED and command.text is not None
    if isinstance(command, ActOnTask) and task_tier is Tier.RESTRICTED:
        return _texts_of(command)
    return False


def seal_command(
    keyring: Keyring, roster: Roster, command: CommandT, *, task_tier: Tier | None = None
) -> CommandT:
    """`command` with its restricted text sealed for its actor's scope. A note says its own
    tier; a completion note or decline reason takes the task's (`task_tier`: read the task
    first). Other commands, and text that is not restricted, come back as they are."""
    if isinstance(command, ActOnTask) and task_tier is None and _texts_of(command):
        raise ValueError("the task's tier is needed to know whether its text must be sealed")
    if not has_restricted_text(command, task_tier):
        return command
    author, task_id = command.actor, _task_id(command)
    fields: dict[str, object] = {}
    if isinstance(command, NoteTask) and command.text is not None:
        sealed = seal_text(keyring, roster, task_id, author, TextField.NOTE, command.text)
        fields = {"text": None, "sealed": sealed}
    elif isinstance(command, ActOnTask) and (note := _completion_note(command)) is not None:
        sealed = seal_text(keyring, roster, task_id, author, TextField.COMPLETION_NOTE, note)
        fields = {"note": None, "note_sealed": sealed}
    elif isinstance(command, ActOnTask) and (reason := _decline_reason(command)) is not None:
        sealed = seal_text(keyring, roster, task_id, author, TextField.DECLINE_REASON, reason)
        fields = {"reason": None, "reason_sealed": sealed}
    return type(command).model_validate(command.model_dump() | fields)


def _task_id(command: Command) -> str:
    assert isinstance(command, NoteTask | ActOnTask)
    return command.task_id


def _texts_of(command: ActOnTask) -> bool:
    return _completion_note(command) is not None or _decline_reason(command) is not None


def _completion_note(command: ActOnTask) -> str | None:
    return command.note if command.verb is TaskVerb.COMPLETE and command.note else None


def _decline_reason(command: ActOnTask) -> str | None:
    # Stored stripped; a blank reason stays as it is, for the engine to refuse as missing.
    reason = (command.reason or "").strip()
    return reason if command.verb is TaskVerb.DECLINE and reason else None


# ---- opening, for a reader the policy allows ------------------------------------------------


def open_text(keyring: Keyring, sealed: Sealed, bound_to: dict[str, str]) -> str:
    """The text; ERASED once its scope's key is gone; BROKEN (logged) when it was altered or
    does not belong where it was found."""
    try:
        opened = keyring.open(sealed, bound_to)
    except SealBroken:
        log.warning("sealed_text_broken", task_id=bound_to.get("task"), field=bound_to.get("field"))
        return BROKEN
    return ERASED if isinstance(opened, Erased) else opened


@overload
def open_view(keyring: Keyring, view: TaskSnapshot) -> TaskSnapshot: ...
@overload
def open_view(keyring: Keyring, view: TimelineEntry) -> TimelineEntry: ...
@overload
def open_view(keyring: Keyring, view: Timeline) -> Timeline: ...
def open_view(
    keyring: Keyring, view: TaskSnapshot | TimelineEntry | Timeline
) -> TaskSnapshot | TimelineEntry | Timeline:
    """A view (already cut to what its reader may see) with every envelope in it replaced by
    its text. Call it only with views made for that reader: it opens whatever it is given."""
    if isinstance(view, TaskSnapshot):
        return _open_task(keyring, view)
    if isinstance(view, TimelineEntry):
        return _open_entry(keyring, view)
    return view.model_copy(update={"entries": tuple(_open_entry(keyring, e) for e in view.entries)})


def _open_task(keyring: Keyring, task: TaskSnapshot) -> TaskSnapshot:
    update: dict[str, object] = {}
    if task.note_sealed is not None:
        # Written by whoever completed the task: its assignee, then and now.
        author = task.assignee
        bound = context(task.task_id, author, TextField.COMPLETION_NOTE) if author else None
        text = open_text(keyring, task.note_sealed, bound) if bound else BROKEN
        update |= {"note": text, "note_sealed": None}
    if any(n.sealed is not None for n in task.notes):
        update["notes"] = tuple(_open_note(keyring, task.task_id, n) for n in task.notes)
    return task.model_copy(update=update) if update else task


def _open_note(keyring: Keyring, task_id: str, note: TaskNote) -> TaskNote:
    if note.sealed is None:
        return note
    bound = context(task_id, note.author, TextField.NOTE)
    return note.model_copy(update={"text": open_text(keyring, note.sealed, bound), "sealed": None})


def _open_entry(keyring: Keyring, entry: TimelineEntry) -> TimelineEntry:
    if entry.note_sealed is None:
        return entry
    field = _ENTRY_FIELDS.get(entry.type)
    if field is None or entry.task_id is None or entry.note_by is None:
        text = BROKEN  # an envelope where no sealed text belongs
    else:
        bound = context(entry.task_id, entry.note_by, field)
        text = open_text(keyring, entry.note_sealed, bound)
    return entry.model_copy(update={"note": text, "note_sealed": None})
