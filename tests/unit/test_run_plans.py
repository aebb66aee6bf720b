"""A run of the richer playbook language as pure functions: attributes and conditions, skipped
tasks, deadlines by anchor and phase, follow-ups and their tasks, the response's completion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.enums import TaskStatus
from schemas.events import FollowUpDue, PlaybookTriggered, TaskCreated, TaskSkipped
from schemas.playbook import PinnedPlaybook
from schemas.roster import Member, Roster
from schemas.tasks import AssigneeRule
from services.engine import runs
from tests.support import FIXTURES
from tests.unit.factories import T0, a_task, an_incident
from tests.unit.test_runs import HOLDERS, ROSTER, pinned, roster_of

NOW = T0 + timedelta(seconds=5)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def rich() -> PinnedPlaybook:
    return pinned(FIXTURES / "playbooks" / "drill-rich.yaml")


def rich_run(time_scale: float = 1.0, **attributes: str) -> PlaybookTriggered:
    incident = an_incident("drill-rich", attributes=attributes, time_scale=time_scale)
    return runs.trigger(rich(), incident, how="automatic", actor="engine", now=NOW)


def planned(run: PlaybookTriggered) -> dict[str, TaskCreated | TaskSkipped]:
    return {event.task.key: event for event in runs.instantiate(run, ROSTER, NOW)}


def test_trigger_records_the_incident_s_facts_beside_the_plan() -> None:
    book = rich()
    incident = an_incident(
        "drill-rich", attributes={"people_hurt": "3"}, involved=("tom",), exercise=True
    )
    run = runs.trigger(book, incident, how="automatic", actor="engine", now=NOW)
    assert run.attributes == {
        "people_hurt": "3",
        "severity": "high",
        "incident_type": "drill-rich",
    }
    assert (run.trigger, run.actor, run.at, run.incident_logged_at) == (
        "automatic",
        "engine",
        NOW,
        T0,
    )
    assert (run.involved, run.exercise) == (("tom",), True)
    assert (run.playbook_id, run.playbook_title) == ("drill-rich", book.playbook.title)
    assert run.attribute_specs == book.playbook.triggers.attributes
    assert run.phases == book.playbook.phases


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), (" Yes ", True), ("FALSE", False), ("no", False),
     ("1", None), ("0", None), ("Y", None), ("maybe", None)],
)  # fmt: skip
def test_boolean_attributes_read_the_documented_spellings_only(
    raw: str, value: bool | None
) -> None:
    assert runs.condition_values(rich_run(person_deceased=raw))["person_deceased"] is value


def test_number_attributes_are_numbers_and_others_stay_text() -> None:
    values = runs.condition_values(rich_run(people_hurt="2", family_language="es"))
    assert values["people_hurt"] == 2.0
    assert (values["family_language"], values["severity"]) == ("es", "high")
    assert runs.condition_values(rich_run(people_hurt="two"))["people_hurt"] is None


def test_a_task_whose_condition_fails_is_skipped_with_the_condition_named() -> None:
    tasks = planned(rich_run(person_deceased="yes", people_hurt="3"))
    notification, outreach = tasks["notification-support"], tasks["injury-outreach"]
    assert isinstance(notification, TaskCreated)
    assert notification.task.status is TaskStatus.ASSIGNED
    assert isinstance(outreach, TaskSkipped)
    assert outreach.reason == "condition not met: people_hurt >= 2 and not person_deceased"
    assert (outreach.task.status, outreach.task.assignee) == (TaskStatus.SKIPPED, None)
    assert outreach.task.title == "Outreach to the injured"
    assert outreach.event_id == "INC-AAAAAAAA.injury-outreach.skipped"
    assert (outreach.actor, outreach.at) == ("engine", NOW)


def test_the_other_branch_of_the_condition() -> None:
    tasks = planned(rich_run(person_deceased="no", people_hurt="3"))
    assert isinstance(tasks["notification-support"], TaskSkipped)
    assert isinstance(tasks["injury-outreach"], TaskCreated)


def test_a_waiting_task_already_knows_its_assignee() -> None:
    created = planned(rich_run(person_deceased="yes"))["memorial-planning"]
    assert isinstance(created, TaskCreated)
    assert created.task.status is TaskStatus.WAITING
    assert created.task.assignee in HOLDERS["community_liaison"]
    assert created.task.depends_on == ("notification-support",)
    assert (created.event_id, created.actor, created.at) == (
        "INC-AAAAAAAA.memorial-planning.created",
        "engine",
        NOW,
    )


def test_windows_count_from_the_incident_the_phase_or_the_prerequisites() -> None:
    run = rich_run(person_deceased="yes")
    tasks = {key: event.task for key, event in planned(run).items()}
    notification, recovery = tasks["notification-support"], tasks["recovery-circle"]
    assert (notification.acknowledge_by, notification.due_by) == (T0 + HOUR, T0 + 6 * HOUR)
    phase_start = T0 + timedelta(days=3)  # the recovery phase starts after P3D
    assert (recovery.acknowledge_by, recovery.due_by) == (phase_start + DAY, phase_start + 2 * DAY)
    assert recovery.phase == "recovery"
    memorial = tasks["memorial-planning"]
    assert (memorial.acknowledge_by, memorial.due_by) == (None, None)  # until its prerequisite
    template = runs.template_of(run, "memorial-planning")
    assert template is not None
    done = T0 + 4 * HOUR
    assert runs.deadlines(run, template, done) == (done + DAY, done + 2 * DAY)


def test_an_exercise_scales_every_window() -> None:
    run = rich_run(time_scale=0.001, person_deceased="yes")
    tasks = {key: event.task for key, event in planned(run).items()}
    assert tasks["notification-support"].due_by == T0 + 6 * HOUR * 0.001
    assert tasks["recovery-circle"].acknowledge_by == T0 + (3 * DAY + DAY) * 0.001
    assert [due.due_at for due in runs.follow_ups_due(run, set())] == [
        T0 + DAY * 0.001,
        T0 + 2 * DAY * 0.001,
    ]


def test_follow_ups_come_due_from_the_incident_unless_their_task_was_skipped() -> None:
    run = rich_run(person_deceased="yes")
    due = runs.follow_ups_due(run, set())
    assert [(d.parent_key, d.number, d.due_at, d.at) for d in due] == [
        ("notification-support", 1, T0 + DAY, T0 + DAY),
        ("notification-support", 2, T0 + 2 * DAY, T0 + 2 * DAY),
    ]
    assert due[0].event_id == "INC-AAAAAAAA.notification-support.follow-up-1.due"
    assert (due[0].incident_id, due[0].actor) == ("INC-AAAAAAAA", "engine")
    assert runs.follow_ups_due(run, {"notification-support"}) == []


def a_follow_up(number: int = 2, parent_key: str = "notification-support") -> FollowUpDue:
    return FollowUpDue(
        event_id=f"INC-AAAAAAAA.{parent_key}.follow-up-{number}.due",
        incident_id="INC-AAAAAAAA",
        actor="engine",
        at=T0 + number * DAY,
        parent_key=parent_key,
        number=number,
        due_at=T0 + number * DAY,
    )


def test_a_follow_up_goes_to_whoever_did_the_original_task() -> None:
    run, due = rich_run(person_deceased="yes"), a_follow_up()
    created = runs.follow_up_task(run, due, a_task(assignee="sam"), ROSTER, NOW)
    assert created is not None
    task = created.task
    assert (task.assignee, task.status) == ("sam", TaskStatus.ASSIGNED)
    assert task.key == "notification-support-follow-up-2"
    assert task.task_id == "INC-AAAAAAAA.notification-support-follow-up-2"
    assert task.title == "Family check-in (follow-up 2 of 2)"
    assert (task.role, task.follow_up_of, task.required) == (
        "victim_advocate",
        "notification-support",
        False,
    )
    assert (task.acknowledge_by, task.due_by) == (due.due_at + HOUR, due.due_at + 2 * HOUR)
    assert (created.event_id, created.actor, created.at) == (
        "INC-AAAAAAAA.notification-support-follow-up-2.created",
        "engine",
        NOW,
    )


@pytest.mark.parametrize("parent_assignee", [None, "tom"])  # gone, or no longer in the role
def test_a_follow_up_whose_original_holder_cannot_take_it_goes_round(
    parent_assignee: str | None,
) -> None:
    parent = a_task(assignee=parent_assignee)
    created = runs.follow_up_task(rich_run(), a_follow_up(), parent, ROSTER, NOW)
    assert created is not None
    assert created.task.assignee in HOLDERS["victim_advocate"]
    assert runs.follow_up_task(rich_run(), a_follow_up(), None, ROSTER, NOW) == created


def test_a_follow_up_nobody_can_take_waits_in_the_pool() -> None:
    nobody = roster_of({**HOLDERS, "victim_advocate": ()})
    created = runs.follow_up_task(rich_run(), a_follow_up(), None, nobody, NOW)
    assert created is not None
    assert (created.task.assignee, created.task.status) == (None, TaskStatus.UNASSIGNED)


def test_no_follow_up_task_for_a_task_without_follow_ups_or_unknown() -> None:
    run = rich_run()
    assert runs.follow_up_task(run, a_follow_up(1, "memorial-planning"), None, ROSTER, NOW) is None
    assert runs.follow_up_task(run, a_follow_up(1, "no-such-task"), None, ROSTER, NOW) is None


def test_response_completed_counts_the_required_tasks() -> None:
    run = rich_run()
    completed = runs.response_completed(run, NOW)
    assert completed.completed_tasks == len(runs.required_keys(run)) == 4
    assert (completed.event_id, completed.playbook_id) == (
        "INC-AAAAAAAA.response.completed",
        "drill-rich",
    )
    assert (completed.actor, completed.at, completed.incident_id) == ("engine", NOW, "INC-AAAAAAAA")


def test_every_task_of_an_exercise_is_marked_as_one() -> None:
    incident = an_incident("drill-rich", attributes={"person_deceased": "yes"}, exercise=True)
    run = runs.trigger(rich(), incident, how="automatic", actor="engine", now=NOW)
    assert all(event.task.exercise for event in runs.instantiate(run, ROSTER, NOW))
    follow_up = runs.follow_up_task(run, a_follow_up(), None, ROSTER, NOW)
    assert follow_up is not None and follow_up.task.exercise
    real = planned(rich_run(person_deceased="yes"))
    assert not any(event.task.exercise for event in real.values())


@pytest.mark.parametrize("holder", ["priya", "sam"])
def test_whichever_advocate_did_the_task_keeps_its_follow_ups(holder: str) -> None:
    created = runs.follow_up_task(rich_run(), a_follow_up(), a_task(assignee=holder), ROSTER, NOW)
    assert created is not None and created.task.assignee == holder


def test_a_follow_up_inherits_the_phase_and_instructions_of_its_task() -> None:
    run = rich_run()
    tasks = tuple(
        t.model_copy(update={"phase": "immediate", "instructions": "Call the family first."})
        if t.key == "notification-support"
        else t
        for t in run.tasks
    )
    created = runs.follow_up_task(
        run.model_copy(update={"tasks": tasks}), a_follow_up(), None, ROSTER, NOW
    )
    assert created is not None
    assert (created.task.phase, created.task.instructions) == (
        "immediate",
        "Call the family first.",
    )


def test_follow_ups_are_found_wherever_their_task_stands_in_the_playbook() -> None:
    run = rich_run(person_deceased="yes")
    reordered = run.model_copy(update={"tasks": tuple(reversed(run.tasks))})
    assert [d.number for d in runs.follow_ups_due(reordered, set())] == [1, 2]


def test_an_assignee_rule_reads_the_incident_s_attributes() -> None:
    advocates = Roster(
        agency="Example PD",
        members=tuple(
            Member(id=person, name=person, roles=("victim_advocate",), organisation="PD",
                   languages=languages)
            for person, languages in (("ana", ("en",)), ("bea", ("en", "es")), ("cy", ("en",)))
        ),
    )  # fmt: skip
    run = rich_run(person_deceased="yes", family_language="es")
    rule = AssigneeRule(language_from="family_language")
    tasks = tuple(t.model_copy(update={"assignee": rule}) for t in run.tasks)
    run = run.model_copy(update={"tasks": tasks})
    assert runs.assignees(run, advocates)["notification-support"] == "bea"
    follow_up = runs.follow_up_task(run, a_follow_up(), None, advocates, NOW)
    assert follow_up is not None and follow_up.task.assignee == "bea"


def test_rotations_are_seeded_by_the_incident_so_work_spreads_out() -> None:
    first_tasks: set[str | None] = set()
    follow_ups: set[str | None] = set()
    for letter in "ABCDEFGHJKMN":
        incident = an_incident("drill-rich", incident_id=f"INC-AAAAAAA{letter}")
        run = runs.trigger(rich(), incident, how="automatic", actor="engine", now=NOW)
        first_tasks.add(runs.assignees(run, ROSTER)["recovery-circle"])
        chosen = runs.follow_up_task(run, a_follow_up(), None, ROSTER, NOW)
        assert chosen is not None
        follow_ups.add(chosen.task.assignee)
    assert first_tasks == set(HOLDERS["peer_support"])
    assert follow_ups == set(HOLDERS["victim_advocate"])


def test_a_created_task_carries_its_instructions_to_the_responder() -> None:
    run = rich_run(person_deceased="yes")
    tasks = tuple(t.model_copy(update={"instructions": f"How to do {t.key}."}) for t in run.tasks)
    created = runs.instantiate(run.model_copy(update={"tasks": tasks}), ROSTER, NOW)
    assert [e.task.instructions for e in created] == [f"How to do {t.key}." for t in tasks]
