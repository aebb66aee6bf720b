from __future__ import annotations

from schemas.commands import ActOnTask, TaskVerb
from schemas.enums import TaskStatus, Tier
from schemas.events import (
    AnyEvent,
    PlaybookCancelled,
    PlaybookTriggered,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
    TaskSkipped,
)
from schemas.playbook_validation import parse_playbook
from services.engine import lifecycle, runs
from services.timeline.render import WITHHELD, entries, entry, unrecognised_entry
from tests.support import FIXTURES
from tests.unit.factories import T0, a_task, an_incident
from tests.unit.test_runs import ROSTER


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


def test_an_unrecognised_event_shows_its_type_time_and_seq_only() -> None:
    shown = unrecognised_entry("task.escalated", T0, seq=12)
    assert (shown.type, shown.at, shown.seq, shown.recognised) == ("task.escalated", T0, 12, False)
    assert shown.note is None and "task.escalated" in shown.text


def a_run_s_events() -> list[AnyEvent]:
    """One event of every kind, as the engine makes them, for the drill-rich playbook."""
    incident = an_incident("drill-rich", attributes={"person_deceased": "yes"})
    book = parse_playbook((FIXTURES / "playbooks" / "drill-rich.yaml").read_bytes(), "drill-rich")
    run = runs.trigger(book, incident, how="automatic", actor="engine", now=T0)
    planned = {e.task.key: e for e in runs.instantiate(run, ROSTER, T0)}
    waiting = planned["memorial-planning"].task.model_copy(update={"assignee": "dana"})
    released = lifecycle.release(waiting, T0)
    pool = a_task(status=TaskStatus.UNASSIGNED, assignee=None, declined_by=("priya.nair",))
    assigned = lifecycle.reassign(pool, ["priya.nair", "sam.whitfield"], T0)
    acknowledge = ActOnTask(
        request_id="req-00000001",
        actor="priya.nair",
        verb=TaskVerb.ACKNOWLEDGE,
        task_id=pool.task_id,
    )
    acknowledged = lifecycle.decide(a_task(), acknowledge, T0)
    started = lifecycle.decide(
        a_task(), acknowledge.model_copy(update={"verb": TaskVerb.START}), T0
    )
    made = [released, assigned, acknowledged, started]
    assert all(event is not None for event in made)
    return [
        incident,
        run.model_copy(update={"version": "abc123"}),
        planned["notification-support"].model_copy(
            update={
                "task": planned["notification-support"].task.model_copy(update={"assignee": "sam"})
            }
        ),
        planned["memorial-planning"].model_copy(
            update={"task": waiting.model_copy(update={"assignee": None})}
        ),
        planned["injury-outreach"],
        runs.follow_ups_due(run, set())[0],
        *(event for event in made if event is not None),
        runs.response_completed(run, T0),
    ]


def test_every_kind_of_event_reads_as_a_sentence() -> None:
    texts = [entry(event, seq).text for seq, event in enumerate(a_run_s_events(), start=1)]
    assert texts == [
        "Incident logged: drill-rich, severity high",
        "Playbook drill-rich (version abc123) triggered automatically: 4 tasks",
        "Task notification-support (victim_advocate) created for sam",
        "Task memorial-planning (community_liaison) created for nobody (unassigned); "
        "waits for notification-support",
        "Task injury-outreach skipped: condition not met: people_hurt >= 2 and not person_deceased",
        "Follow-up 1 of notification-support came due",
        "Task memorial-planning released to dana: prerequisites complete",
        "Task family-contact reassigned to sam.whitfield",
        "priya.nair acknowledged family-contact",
        "priya.nair started family-contact",
        "Response complete: all 4 required tasks done",
    ]


def test_a_manual_trigger_says_by_hand() -> None:
    run = a_run_s_events()[1]
    assert isinstance(run, PlaybookTriggered)
    manual = run.model_copy(update={"trigger": "manual"})
    assert entry(manual, 2).text.endswith("triggered by hand: 4 tasks")


def test_entries_carry_the_task_its_tier_and_stream_order() -> None:
    events = a_run_s_events()
    shown = entries([(event, seq) for seq, event in enumerate(events, start=10)])
    assert [e.seq for e in shown] == list(range(10, 10 + len(events)))
    incident, created = shown[0], shown[2]
    assert (incident.task_id, incident.tier, incident.type) == (
        None,
        Tier.PUBLIC,
        "incident.logged",
    )
    assert created.task_id == "INC-AAAAAAAA.notification-support"
    assert created.tier is events[2].task.tier  # type: ignore[union-attr]
    assert (created.actor, created.at, created.note, created.redacted) == (
        "engine",
        T0,
        None,
        False,
    )


def test_a_task_waiting_on_several_names_them_all() -> None:
    created = TaskCreated(
        event_id="e3",
        incident_id="INC-AAAAAAAA",
        actor="engine",
        at=T0,
        task=a_task(status=TaskStatus.WAITING, depends_on=("defusing", "notification")),
    )
    assert entry(created, 3).text == (
        "Task family-contact (victim_advocate) created for priya.nair; "
        "waits for defusing, notification"
    )


def test_a_cancelled_playbook_and_its_tasks_say_so_and_the_reason_is_for_command() -> None:
    cancelled = PlaybookCancelled(
        event_id="INC-AAAAAAAA.playbook.cancelled",
        incident_id="INC-AAAAAAAA",
        actor="renee.alvarez",
        at=T0,
        playbook_id="drill-rich",
        reason="Logged as the wrong type",
    )
    shown = entry(cancelled, 7)
    assert shown.text == (
        "renee.alvarez cancelled playbook drill-rich; its open tasks are cancelled and nothing "
        "of it fires later"
    )
    assert (shown.note, shown.tier) == ("Logged as the wrong type", Tier.COMMAND)
    task = lifecycle.cancel(a_task(), T0, "renee.alvarez", "playbook_cancelled")
    closing = lifecycle.cancel(a_task(), T0, "renee.alvarez")
    assert task is not None and closing is not None
    assert entry(task, 8).text == "Task family-contact cancelled: its playbook was cancelled"
    assert entry(closing, 9).text == "Task family-contact cancelled: the incident was closed"
