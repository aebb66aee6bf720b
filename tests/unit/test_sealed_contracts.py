"""Restricted text travels sealed: the contracts carry a text either plain or sealed (never
both, never neither), only restricted text is sealed, and the services refuse restricted text
that is not sealed, or sealed for another team than its writer's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.commands import ActOnTask, ErrorCode, NoteTask, TaskVerb
from schemas.enums import TaskStatus, Tier
from schemas.events import TaskDeclined
from schemas.roster import Roster
from schemas.sealed import Sealed
from schemas.tasks import TaskNote, TaskSnapshot
from services.core.errors import Refused
from services.core.restricted_text import check_command
from tests.support import example_roster
from tests.unit.factories import T0, a_task

TASK = "INC-AAAAAAAA.family-contact"


def envelope(scope: str = "team.peer-support") -> Sealed:
    return Sealed(scope=scope, key_id="k1a2", nonce="A" * 16, ciphertext="B" * 40)


def roster() -> Roster:
    return example_roster()


def test_a_note_is_plain_or_sealed_exactly_one_and_only_a_restricted_one_is_sealed() -> None:
    assert TaskNote(author="aisha.grant", at=T0, tier=Tier.RESTRICTED, sealed=envelope()).sealed
    assert TaskNote(author="aisha.grant", at=T0, tier=Tier.PUBLIC, text="Held").text == "Held"
    for fields in (
        {"tier": Tier.RESTRICTED},
        {"tier": Tier.RESTRICTED, "text": "x", "sealed": envelope()},
        {"tier": Tier.COMMAND, "sealed": envelope()},
    ):
        with pytest.raises(ValidationError):
            TaskNote.model_validate({"author": "aisha.grant", "at": T0, **fields})


def test_a_note_command_carries_its_text_or_its_sealed_text() -> None:
    base = {"request_id": "r1234567", "actor": "aisha.grant", "task_id": TASK}
    assert NoteTask(**base, tier=Tier.RESTRICTED, sealed=envelope()).text is None
    for fields in (
        {"tier": Tier.RESTRICTED},
        {"tier": Tier.RESTRICTED, "text": "x", "sealed": envelope()},
        {"tier": Tier.PUBLIC, "sealed": envelope()},
    ):
        with pytest.raises(ValidationError):
            NoteTask.model_validate({**base, **fields})


def test_a_task_verb_sends_a_note_or_reason_plain_or_sealed_not_both() -> None:
    base = {"request_id": "r1234567", "actor": "aisha.grant", "task_id": TASK}
    ActOnTask(**base, verb=TaskVerb.COMPLETE, note_sealed=envelope())
    with pytest.raises(ValidationError):
        ActOnTask(**base, verb=TaskVerb.COMPLETE, note="x", note_sealed=envelope())
    with pytest.raises(ValidationError):
        ActOnTask(**base, verb=TaskVerb.DECLINE, reason="x", reason_sealed=envelope())


def test_a_completion_note_and_a_decline_reason_are_plain_or_sealed() -> None:
    task = a_task().model_dump()
    assert TaskSnapshot.model_validate({**task, "note_sealed": envelope()}).note is None
    with pytest.raises(ValidationError):
        TaskSnapshot.model_validate({**task, "note": "x", "note_sealed": envelope()})
    with pytest.raises(ValidationError):  # a command-tier task's note is never sealed
        TaskSnapshot.model_validate({**task, "tier": Tier.COMMAND, "note_sealed": envelope()})
    declined = {
        "event_id": "e1",
        "incident_id": "INC-AAAAAAAA",
        "actor": "aisha.grant",
        "at": T0,
        "task": a_task(status=TaskStatus.UNASSIGNED, assignee=None),
    }
    assert TaskDeclined(**declined, reason_sealed=envelope()).reason is None
    for fields in ({}, {"reason": "x", "reason_sealed": envelope()}):
        with pytest.raises(ValidationError):
            TaskDeclined.model_validate({**declined, **fields})


def note(
    text: str | None = None, sealed: Sealed | None = None, actor: str = "aisha.grant"
) -> NoteTask:
    return NoteTask(
        request_id="r1234567",
        actor=actor,
        task_id=TASK,
        tier=Tier.RESTRICTED,
        text=text,
        sealed=sealed,
    )


def act(verb: TaskVerb, **text: object) -> ActOnTask:
    return ActOnTask.model_validate(
        {"request_id": "r1234567", "actor": "aisha.grant", "task_id": TASK, "verb": verb, **text}
    )


def refusal(command: NoteTask | ActOnTask, tier: Tier, require_sealed: bool = True) -> Refused:
    with pytest.raises(Refused) as refused:
        check_command(roster(), command, tier, require_sealed=require_sealed)
    return refused.value


def test_restricted_plain_text_is_refused_naming_its_field() -> None:
    for command, field in (
        (note("Family prefers calls after 6pm"), "text"),
        (act(TaskVerb.COMPLETE, note="Defusing held"), "note"),
        (act(TaskVerb.DECLINE, reason="I know the officer"), "reason"),
    ):
        refused = refusal(command, Tier.RESTRICTED)
        assert refused.code is ErrorCode.INVALID_REQUEST
        assert refused.message.startswith(f"{field}: restricted text must be sealed")


def test_plain_text_passes_where_it_is_not_restricted_or_sealing_is_not_required() -> None:
    check_command(roster(), act(TaskVerb.COMPLETE, note="Held"), Tier.COMMAND, require_sealed=True)
    check_command(roster(), note("Held"), Tier.RESTRICTED, require_sealed=False)
    # A blank reason is for the task's own rules to refuse, as missing.
    check_command(
        roster(), act(TaskVerb.DECLINE, reason="  "), Tier.RESTRICTED, require_sealed=True
    )
    # Acknowledging stores no text, whatever came with it.
    check_command(
        roster(), act(TaskVerb.ACKNOWLEDGE, note="x"), Tier.RESTRICTED, require_sealed=True
    )


def test_sealed_text_passes_for_its_writers_scope_only() -> None:
    check_command(roster(), note(sealed=envelope()), Tier.RESTRICTED, require_sealed=True)
    check_command(
        roster(),
        act(TaskVerb.COMPLETE, note_sealed=envelope()),
        Tier.RESTRICTED,
        require_sealed=True,
    )
    other = refusal(note(sealed=envelope("team.victim-services")), Tier.RESTRICTED)
    assert other.code is ErrorCode.FORBIDDEN
    assert other.message.startswith(
        "sealed: sealed for team.victim-services, but aisha.grant writes for team.peer-support"
    )
    partner = refusal(note(sealed=envelope(), actor="helen.park"), Tier.RESTRICTED)
    assert "helen.park writes for org.northstar-wellness" in partner.message


def test_only_restricted_text_is_sealed() -> None:
    refused = refusal(act(TaskVerb.DECLINE, reason_sealed=envelope()), Tier.COMMAND)
    assert refused.message == (
        "reason_sealed: only restricted text is sealed, and this is command-tier"
    )
