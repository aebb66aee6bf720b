"""Narrowing a timeline by role, phase, person and event type, and the types and roles as
people type them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import typer

from schemas.commands import GetTimeline
from schemas.enums import TaskStatus, Tier
from schemas.events import TaskCompleted
from schemas.views import TimelineEntry
from services.cli.review_options import event_types, role_ids
from services.core.timeline_filters import filtered
from services.timeline.render import entry
from tests.unit.factories import T0, a_task

DEFUSE = "INC-AAAAAAAA.defusing"
STATEMENT = "INC-AAAAAAAA.statement"


def line(seq: int, type_: str, actor: str, **more: object) -> TimelineEntry:
    fields: dict[str, object] = {
        "seq": seq,
        "at": T0 + timedelta(minutes=seq),
        "type": type_,
        "actor": actor,
        "text": f"{actor} {type_}",
    }
    fields.update(more)
    return TimelineEntry.model_validate(fields)


ENTRIES = (
    line(1, "incident.logged", "renee.alvarez"),
    line(
        2,
        "task.created",
        "engine",
        task_id=DEFUSE,
        role="peer_support",
        phase="immediate",
        assignee="aisha.grant",
    ),
    line(
        3,
        "task.created",
        "engine",
        task_id=STATEMENT,
        role="public_information",
        phase="first-72-hours",
        assignee="kim.liu",
    ),
    line(4, "notice.sent", "notifier", task_id=DEFUSE),
    line(
        5,
        "task.acknowledged",
        "aisha.grant",
        task_id=DEFUSE,
        role="peer_support",
        phase="immediate",
        assignee="aisha.grant",
    ),
    line(
        6,
        "task.noted",
        "tom.kowalski",
        task_id=DEFUSE,
        role="peer_support",
        phase="immediate",
        assignee="aisha.grant",
        note="[restricted]",
        note_by="tom.kowalski",
    ),
    line(
        7,
        "task.declined",
        "kim.liu",
        task_id=STATEMENT,
        role="public_information",
        phase="first-72-hours",
        assignee=None,
    ),
)


def seqs(**filters: object) -> list[int]:
    query = GetTimeline.model_validate({"incident_id": "INC-AAAAAAAA", **filters})
    return [e.seq for e in filtered(ENTRIES, query)]


def test_no_filter_keeps_every_entry() -> None:
    assert seqs() == [1, 2, 3, 4, 5, 6, 7]


def test_role_keeps_its_tasks_entries_deliveries_included() -> None:
    assert seqs(roles=["peer_support"]) == [2, 4, 5, 6]
    assert seqs(roles=["peer_support", "public_information"]) == [2, 3, 4, 5, 6, 7]


def test_phase_keeps_entries_of_tasks_of_that_phase() -> None:
    assert seqs(phases=["first-72-hours"]) == [3, 7]


def test_person_is_whoever_acted_held_the_task_or_wrote_the_note() -> None:
    assert seqs(people=["aisha.grant"]) == [2, 4, 5, 6]  # held it, was told, acknowledged
    assert seqs(people=["tom.kowalski"]) == [6]  # wrote a note on her task
    assert seqs(people=["kim.liu"]) == [3, 7]
    assert seqs(people=["renee.alvarez"]) == [1]


def test_type_keeps_events_of_those_types() -> None:
    assert seqs(types=["task.acknowledged", "task.declined"]) == [5, 7]


def test_filters_given_together_all_apply() -> None:
    assert seqs(roles=["peer_support"], people=["aisha.grant"], types=["task.noted"]) == [6]
    assert seqs(roles=["peer_support"], phases=["first-72-hours"]) == []


def test_a_delivery_takes_the_facts_of_its_task() -> None:
    notice = filtered(ENTRIES, GetTimeline(incident_id="INC-AAAAAAAA", types=("notice.sent",)))
    assert [(e.role, e.phase, e.assignee) for e in notice] == [
        ("peer_support", "immediate", "aisha.grant")
    ]


def test_a_task_entry_carries_the_role_phase_and_assignee_of_its_task() -> None:
    done = TaskCompleted(
        event_id="e1",
        incident_id="INC-AAAAAAAA",
        actor="priya.nair",
        at=T0,
        task=a_task(tier=Tier.COMMAND, status=TaskStatus.COMPLETED, phase="immediate"),
    )
    shown = entry(done, seq=3)
    assert (shown.role, shown.phase, shown.assignee) == (
        "victim_advocate",
        "immediate",
        "priya.nair",
    )


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("task.completed", "task.completed"),
        ("completed", "task.completed"),
        ("Completed", "task.completed"),
        ("cancelled", "task.cancelled"),
        ("ack", "task.acknowledged"),
        ("task.decl", "task.declined"),
        ("response.completed", "response.completed"),
        ("in-place", "playbook.in_place"),
        ("sent", "notice.sent"),
    ],
)
def test_event_types_as_people_type_them(typed: str, meant: str) -> None:
    assert event_types([typed]) == (meant,)


@pytest.mark.parametrize("typed", ["bogus", "s", "task.x"])
def test_an_unknown_or_ambiguous_type_is_a_usage_error(
    typed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as stopped:
        event_types([typed])
    assert stopped.value.exit_code == 2
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and said[0].startswith("error: ") and "task." in said[0], said


def test_roles_match_whatever_the_case_and_dashes() -> None:
    known = ["peer_support", "command_staff"]
    assert role_ids(["Peer-Support", "peer_support"], known) == ("peer_support",)
    with pytest.raises(typer.Exit) as stopped:
        role_ids(["chaplain"], known)
    assert stopped.value.exit_code == 2
