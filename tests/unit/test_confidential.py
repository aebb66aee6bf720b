"""Sealing at the edge and what each reader gets: the author's team gets restricted text sealed
and opens it with the team's key; everyone else gets the marker and no envelope. Opening gives
the text, `[restricted: erased]` once the key is gone, and never text that was altered or moved."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.commands import ActOnTask, NoteTask, TaskVerb
from schemas.enums import TaskStatus, Tier
from schemas.events import TaskDeclined
from schemas.principals import AccessRole, Principal, Via
from schemas.sealed import Sealed
from schemas.tasks import TaskNote, TaskSnapshot
from services.core import access
from services.core.confidential import (
    BROKEN,
    ERASED,
    CannotSeal,
    TextField,
    context,
    open_view,
    seal_command,
    seal_text,
)
from services.core.sealing import Keyring, SealBroken
from services.timeline.render import Reading, entry
from tests.support import example_roster
from tests.unit.factories import T0, a_task

TASK = "INC-AAAAAAAA.defusing"
SECRET = "Officer asked for a call after 6pm"
HIDDEN = "[restricted: visible to Peer Support Team only]"
READERS = {
    "author": Principal(account="a", person="aisha.grant", via=Via.SESSION),
    "teammate": Principal(account="t", person="tom.kowalski", via=Via.SESSION),
    "command": Principal(account="r", person="renee.alvarez", via=Via.SESSION),
    "other-team": Principal(account="d", person="dana.reyes", via=Via.SESSION),
    "reviewer": Principal(account="o", via=Via.TOKEN, grants=frozenset({AccessRole.REVIEWER})),
    "admin": Principal(account="x", via=Via.TOKEN, grants=frozenset({AccessRole.ADMIN})),
    "operator": Principal(account="operator", person="aisha.grant", via=Via.OPERATOR),
}
TEAM = {"author", "teammate"}


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys", create_missing=True)


def sealed_task(ring: Keyring) -> TaskSnapshot:
    """A restricted task Aisha completed, with a sealed note and a sealed completion note."""
    roster = example_roster()
    note = seal_text(ring, roster, TASK, "aisha.grant", TextField.NOTE, SECRET)
    done = seal_text(ring, roster, TASK, "aisha.grant", TextField.COMPLETION_NOTE, "Held")
    return a_task(
        task_id=TASK,
        key="defusing",
        role="peer_support",
        assignee="aisha.grant",
        status=TaskStatus.COMPLETED,
        notes=(TaskNote(author="aisha.grant", at=T0, tier=Tier.RESTRICTED, sealed=note),),
        note_sealed=done,
    )


def view(name: str, task: TaskSnapshot) -> TaskSnapshot:
    reader = access.reader_of(READERS[name], example_roster())
    return access.task_view(reader, example_roster(), task)


def test_the_authors_team_gets_the_envelope_and_everyone_else_the_marker(ring: Keyring) -> None:
    task = sealed_task(ring)
    for name in READERS:
        shown = view(name, task)
        if name in TEAM:
            assert shown.notes == task.notes and shown.note_sealed == task.note_sealed, name
        else:
            assert [(n.text, n.sealed) for n in shown.notes] == [(HIDDEN, None)], name
            assert (shown.note, shown.note_sealed) == (HIDDEN, None), name
            assert "ciphertext" not in shown.model_dump_json(), name


def test_a_sealed_decline_reason_reaches_the_timeline_of_the_team_only(ring: Keyring) -> None:
    reason = seal_text(
        ring, example_roster(), TASK, "aisha.grant", TextField.DECLINE_REASON, SECRET
    )
    declined = TaskDeclined(
        event_id="e1",
        incident_id="INC-AAAAAAAA",
        actor="aisha.grant",
        at=T0,
        task=a_task(task_id=TASK, key="defusing", status=TaskStatus.UNASSIGNED, assignee=None),
        reason_sealed=reason,
    )
    for name, principal in READERS.items():
        reading = Reading(access.reader_of(principal, example_roster()), example_roster())
        shown = entry(declined, seq=4, reading=reading)
        if name in TEAM:
            assert (shown.note_sealed, shown.redacted) == (reason, False), name
            assert open_view(ring, shown).note == SECRET
        else:
            assert (shown.note, shown.note_sealed, shown.redacted) == (HIDDEN, None, True), name
    assert entry(declined, seq=4).note_sealed is None  # no reader: withheld


def test_open_view_opens_what_the_team_was_given(ring: Keyring) -> None:
    opened = open_view(ring, view("teammate", sealed_task(ring)))
    assert [(n.text, n.sealed) for n in opened.notes] == [(SECRET, None)]
    assert (opened.note, opened.note_sealed) == ("Held", None)


def test_after_an_erase_it_opens_as_erased(ring: Keyring) -> None:
    task = sealed_task(ring)
    ring.erase("team.peer-support")
    opened = open_view(ring, task)
    assert [n.text for n in opened.notes] == [ERASED] and opened.note == ERASED


def test_altered_or_moved_text_opens_as_broken_never_as_erased(ring: Keyring) -> None:
    task = sealed_task(ring)
    sealed = task.notes[0].sealed
    assert sealed is not None
    flipped = ("A" if sealed.ciphertext[0] != "A" else "B") + sealed.ciphertext[1:]
    altered = task.notes[0].model_copy(
        update={"sealed": sealed.model_copy(update={"ciphertext": flipped})}
    )
    assert open_view(ring, task.model_copy(update={"notes": (altered,)})).notes[0].text == BROKEN
    moved = task.model_copy(update={"task_id": "INC-AAAAAAAA.debriefing"})
    assert open_view(ring, moved).notes[0].text == BROKEN
    as_another_author = task.notes[0].model_copy(update={"author": "tom.kowalski"})
    again = open_view(ring, task.model_copy(update={"notes": (as_another_author,)}))
    assert again.notes[0].text == BROKEN


def command(verb: TaskVerb, **text: str) -> ActOnTask:
    return ActOnTask(request_id="r1234567", actor="aisha.grant", task_id=TASK, verb=verb, **text)


def test_seal_command_seals_restricted_text_for_the_actors_team(ring: Keyring) -> None:
    roster = example_roster()
    note = NoteTask(
        request_id="r1234567", actor="aisha.grant", task_id=TASK, text=SECRET, tier=Tier.RESTRICTED
    )
    sent = seal_command(ring, roster, note)
    assert (
        sent.text is None and sent.sealed is not None and sent.sealed.scope == "team.peer-support"
    )
    assert SECRET not in sent.model_dump_json()
    assert ring.open(sent.sealed, context(TASK, "aisha.grant", TextField.NOTE)) == SECRET

    done = seal_command(
        ring, roster, command(TaskVerb.COMPLETE, note="Held"), task_tier=Tier.RESTRICTED
    )
    assert (done.note, done.note_sealed is not None) == (None, True)
    why = seal_command(
        ring, roster, command(TaskVerb.DECLINE, reason=" Off "), task_tier=Tier.RESTRICTED
    )
    assert why.reason_sealed is not None
    bound = context(TASK, "aisha.grant", TextField.DECLINE_REASON)
    assert ring.open(why.reason_sealed, bound) == "Off"  # stored stripped, as a plain one is


def test_seal_command_leaves_what_is_not_restricted_as_it_is(ring: Keyring) -> None:
    roster = example_roster()
    public = NoteTask(
        request_id="r1234567", actor="aisha.grant", task_id=TASK, text="Held", tier=Tier.PUBLIC
    )
    assert seal_command(ring, roster, public) is public
    plain = command(TaskVerb.COMPLETE, note="Held")
    assert seal_command(ring, roster, plain, task_tier=Tier.COMMAND) is plain
    blank = command(TaskVerb.DECLINE, reason="  ")  # for the engine to refuse as missing
    assert seal_command(ring, roster, blank, task_tier=Tier.RESTRICTED) is blank
    with pytest.raises(ValueError, match="tier is needed"):
        seal_command(ring, roster, plain)
    assert list(ring.keys.path.glob("*.key")) == []  # nothing sealed, no key made


def test_nobody_to_seal_for_is_said_in_one_line(ring: Keyring) -> None:
    stranger = NoteTask(
        request_id="r1234567", actor="nobody.here", task_id=TASK, text="x", tier=Tier.RESTRICTED
    )
    with pytest.raises(CannotSeal, match="nobody.here belongs to no team or organisation"):
        seal_command(ring, example_roster(), stranger)


def test_an_envelope_is_opened_only_where_it_belongs(ring: Keyring) -> None:
    note = seal_text(ring, example_roster(), TASK, "aisha.grant", TextField.NOTE, SECRET)
    assert isinstance(note, Sealed)
    as_reason = context(TASK, "aisha.grant", TextField.DECLINE_REASON)
    with pytest.raises(SealBroken, match="does not open"):
        ring.open(note, as_reason)
