"""What the services accept of restricted text: sealed, for the writer's own scope.

The services hold no keys, so they cannot look inside an envelope; what they can check is that
restricted text arrives sealed (unless `PATHWAYS_REQUIRE_SEALED` is off), that only restricted
text is sealed, and that it is sealed for the scope of whoever writes it — a note sealed with
another team's key would be read by that team. Pure: the roster in force decides the scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.commands import ActOnTask, ErrorCode, NoteTask, TaskVerb
from schemas.enums import Tier
from schemas.roster import Roster
from schemas.sealed import Sealed
from services.core.access import scope_of
from services.core.errors import Refused

MUST_BE_SEALED = "restricted text must be sealed"


def check_command(
    roster: Roster, command: NoteTask | ActOnTask, task_tier: Tier, *, require_sealed: bool
) -> None:
    """Refused, naming the field, unless the command's text is carried as its tier requires.
    `task_tier` is the tier of the task the command is about."""
    text = _text_of(command, task_tier)
    if text is None:
        return
    if text.sealed is not None:
        _check_sealed(roster, command.actor, text, text.sealed)
    elif text.plain and text.plain.strip() and text.tier is Tier.RESTRICTED and require_sealed:
        raise Refused(
            ErrorCode.INVALID_REQUEST,
            f"{text.field}: {MUST_BE_SEALED} before it is sent; this installation stores "
            "none in plain text",
        )


@dataclass(frozen=True)
class Text:
    field: str  # the plain field's name; the sealed one is `sealed_field`
    sealed_field: str
    plain: str | None
    sealed: Sealed | None
    tier: Tier


def _text_of(command: NoteTask | ActOnTask, task_tier: Tier) -> Text | None:
    """The text the command would store, if any."""
    if isinstance(command, NoteTask):
        return Text("text", "sealed", command.text, command.sealed, command.tier)
    if command.verb is TaskVerb.COMPLETE:
        return Text("note", "note_sealed", command.note, command.note_sealed, task_tier)
    if command.verb is TaskVerb.DECLINE:
        return Text("reason", "reason_sealed", command.reason, command.reason_sealed, task_tier)
    return None  # acknowledge and start store no text


def _check_sealed(roster: Roster, actor: str, text: Text, sealed: Sealed) -> None:
    field = text.sealed_field
    if text.tier is not Tier.RESTRICTED:
        raise Refused(
            ErrorCode.INVALID_REQUEST,
            f"{field}: only restricted text is sealed, and this is {text.tier.value}-tier",
        )
    scope = scope_of(roster, actor)
    if sealed.scope != scope:
        writes_for = scope or "no team or organisation"
        raise Refused(
            ErrorCode.FORBIDDEN,
            f"{field}: sealed for {sealed.scope}, but {actor} writes for {writes_for}; "
            "restricted text is sealed for its author's own team",
        )
