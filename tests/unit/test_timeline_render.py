from __future__ import annotations

from schemas.enums import TaskStatus, Tier
from schemas.events import TaskCompleted, TaskCreated, TaskDeclined, TaskSkipped
from services.timeline.render import WITHHELD, entries, entry
from tests.unit.factories import T0, a_task


def completed(tier: Tier, note: str) -> TaskCompleted:
    return TaskCompleted(
        event_id="e1",
        incident_id="INC-AAAAAAAA",
        actor="priya.nair",
        at=T0,
        task=a_task(tier=tier, status=TaskStatus.COMPLETED, note=note),
    )


def test_restricted_note_is_withheld_never_copied() -> None:
    shown = entry(completed(Tier.RESTRICTED, "Family asked about funeral costs"), seq=7)
    assert shown.redacted and shown.note == WITHHELD
    assert "funeral" not in shown.model_dump_json()


def test_command_and_public_notes_are_shown() -> None:
    for tier in (Tier.COMMAND, Tier.PUBLIC):
        shown = entry(completed(tier, "Briefing held"), seq=7)
        assert shown.note == "Briefing held" and not shown.redacted


def test_decline_reason_of_a_restricted_task_is_withheld() -> None:
    declined = TaskDeclined(
        event_id="e2",
        incident_id="INC-AAAAAAAA",
        actor="priya.nair",
        at=T0,
        task=a_task(status=TaskStatus.UNASSIGNED, assignee=None),
        reason="Knows the family",
    )
    shown = entry(declined, seq=8)
    assert shown.text == "priya.nair declined family-contact; it returns to the pool"
    assert shown.note == WITHHELD


def test_a_task_whose_prerequisite_was_skipped_is_not_said_to_wait_for_it() -> None:
    created = TaskCreated(
        event_id="e3",
        incident_id="INC-AAAAAAAA",
        actor="engine",
        at=T0,
        task=a_task(status=TaskStatus.WAITING, depends_on=("language-access", "intake")),
    )
    skipped = TaskSkipped(
        event_id="e4",
        incident_id="INC-AAAAAAAA",
        actor="engine",
        at=T0,
        task=a_task(key="language-access", status=TaskStatus.SKIPPED),
        reason="condition not met: language_access_needed",
    )
    shown = entries([(created, 1), (skipped, 2)])[0].text
    assert shown.endswith("; waits for intake (language-access skipped)")
    alone = created.model_copy(
        update={"task": created.task.model_copy(update={"depends_on": ("language-access",)})}
    )
    assert entries([(alone, 1), (skipped, 2)])[0].text.endswith(
        "; its prerequisites were skipped (language-access), so it is released at once"
    )
