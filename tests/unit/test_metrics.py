"""Response metrics from an incident's real events: per task (assign, acknowledge, complete,
windows, escalations, reminders, declines, reassignments, skipped and why), per group (nearest-
rank median and p90, share of windows met), follow-ups, and folds that arrival order and
redelivery leave unchanged."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import count
from typing import TypeVar

import pytest

from schemas.enums import TaskStatus, Tier
from schemas.events import (
    AnyEvent,
    FollowUpDue,
    IncidentClosed,
    PlaybookCancelled,
    PlaybookTriggered,
    TaskAcknowledged,
    TaskAssigned,
    TaskCancelled,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
    TaskEscalated,
    TaskEvent,
    TaskReminded,
    TaskSkipped,
    TaskStarted,
)
from schemas.metrics import TaskMetricsRecord
from schemas.tasks import FollowUp, TaskSnapshot, TaskTemplate
from services.core.library import load_roster
from services.core.metrics import (
    NO_PHASE,
    TaskMetrics,
    families_in,
    incident_metrics,
    nearest_rank,
    summarise,
    task_metrics,
)
from services.core.metrics_fold import IncidentFacts, fold_task, records_of
from tests.support import ROOT
from tests.unit.factories import T0, an_incident

H = timedelta(hours=1)
M = timedelta(minutes=1)
NOW = T0 + 22 * H
INC = "INC-AAAAAAAA"
FAMILIES = {
    "victim_advocate": ("victim_advocate",),
    "command_staff": ("command",),
    "public_information": ("public_information",),
    "liaison_advocate": ("community_liaison", "victim_advocate"),
}
_ids = count(1)
E = TypeVar("E", bound=TaskEvent)


def families(role: str) -> tuple[str, ...]:
    return FAMILIES.get(role, ())


def snap(key: str, role: str, **changes: object) -> TaskSnapshot:
    fields: dict[str, object] = {
        "task_id": f"{INC}.{key}",
        "incident_id": INC,
        "key": key,
        "title": key.replace("-", " "),
        "role": role,
        "tier": Tier.COMMAND,
        "required": True,
        "status": TaskStatus.ASSIGNED,
        "assignee": "priya.nair",
        "acknowledge_by": None,
        "due_by": None,
    }
    return TaskSnapshot.model_validate(fields | changes)


def handed(at: datetime, assignment: int, ack: timedelta, due: timedelta) -> dict[str, object]:
    """The fields a new assignment at `at` sets (as the engine's clock does)."""
    return {
        "assignment": assignment,
        "assigned_at": at,
        "acknowledge_window": ack,
        "due_window": due,
        "acknowledge_by": at + ack,
        "due_by": at + due,
    }


def event(kind: type[E], minutes: float, task: TaskSnapshot, **more: object) -> E:
    return kind(
        event_id=f"{task.task_id}.{next(_ids)}",
        incident_id=INC,
        actor="engine",
        at=T0 + minutes * M,
        task=task,
        **more,
    )


def story() -> list[AnyEvent]:
    """A response: a declined and reassigned task, an escalated late one, a skipped one, and
    follow-ups done, overdue and still to come."""
    templates = (
        TaskTemplate(
            key="family-contact",
            title="Family contact",
            role="victim_advocate",
            phase="immediate",
            acknowledge_within=2 * H,
            due_within=24 * H,
            follow_ups=FollowUp(
                title="Check in",
                after=(1 * H, 2 * H, 7 * 24 * H),
                acknowledge_within=30 * M,
                due_within=2 * H,
            ),
        ),
        TaskTemplate(
            key="briefing",
            title="Briefing",
            role="command_staff",
            phase="immediate",
            acknowledge_within=15 * M,
            due_within=4 * H,
        ),
        TaskTemplate(
            key="press",
            title="Press",
            role="public_information",
            acknowledge_within=H,
            due_within=H,
            follow_ups=FollowUp(
                title="Press again", after=(48 * H,), acknowledge_within=H, due_within=H
            ),
        ),
    )
    triggered = PlaybookTriggered(
        event_id=f"{INC}.triggered",
        incident_id=INC,
        actor="engine",
        at=T0,
        playbook_id="ois",
        playbook_title="OIS",
        version="1",
        trigger="automatic",
        incident_logged_at=T0,
        tasks=templates,
    )
    fc = snap("family-contact", "victim_advocate", phase="immediate")
    fc1 = fc.model_copy(update=handed(T0, 1, 2 * H, 24 * H))
    fc_declined = fc1.model_copy(
        update={"status": TaskStatus.UNASSIGNED, "assignee": None, "declined_by": ("priya.nair",)}
    )
    fc2 = fc_declined.model_copy(
        update={"status": TaskStatus.ASSIGNED, "assignee": "sam.okafor"}
        | handed(T0 + 31 * M, 2, 2 * H, 24 * H)
    )
    br = snap("briefing", "command_staff", phase="immediate")
    br1 = br.model_copy(update=handed(T0, 1, 15 * M, 4 * H))
    press = snap("press", "public_information", status=TaskStatus.SKIPPED, assignee=None)
    fu = [
        snap(f"family-contact-follow-up-{n}", "victim_advocate", follow_up_of="family-contact")
        for n in (1, 2)
    ]
    fu1 = fu[0].model_copy(update=handed(T0 + H, 1, 30 * M, 2 * H))
    fu2 = fu[1].model_copy(update=handed(T0 + 2 * H, 1, 30 * M, 2 * H))
    acked = {"status": TaskStatus.ACKNOWLEDGED}
    return [
        an_incident(),
        triggered,
        event(TaskCreated, 0, fc1),
        event(TaskCreated, 0, br1),
        event(TaskSkipped, 0, press, reason="no media interest"),
        event(TaskDeclined, 30, fc_declined, reason="off sick"),
        event(TaskAssigned, 31, fc2, previous_assignee="priya.nair"),
        event(TaskEscalated, 15, br1, deadline="acknowledge", step=1, action="remind"),
        event(TaskEscalated, 30, br1, deadline="acknowledge", step=2, action="notify_command"),
        event(TaskAcknowledged, 45, br1.model_copy(update=acked)),
        event(TaskStarted, 50, br1.model_copy(update={"status": TaskStatus.IN_PROGRESS})),
        event(
            TaskReminded,
            180,
            br1.model_copy(update={"status": TaskStatus.IN_PROGRESS}),
            due_by=T0 + 4 * H,
        ),
        event(TaskAcknowledged, 60, fc2.model_copy(update=acked)),
        event(TaskCompleted, 20 * 60, fc2.model_copy(update={"status": TaskStatus.COMPLETED})),
        FollowUpDue(
            event_id=f"{INC}.fu1",
            incident_id=INC,
            actor="engine",
            at=T0 + H,
            parent_key="family-contact",
            number=1,
            due_at=T0 + H,
        ),
        event(TaskCreated, 60, fu1),
        event(TaskCompleted, 180, fu1.model_copy(update={"status": TaskStatus.COMPLETED})),
        event(TaskCreated, 120, fu2),
    ]


def by_key(tasks: tuple[TaskMetrics, ...]) -> dict[str, TaskMetrics]:
    return {t.key: t for t in tasks}


def test_a_declined_and_reassigned_task_counts_from_its_first_assignment() -> None:
    fc = by_key(task_metrics(story(), NOW))["family-contact"]
    assert (fc.declines, fc.reassignments, fc.escalation_steps) == (1, 1, 0)
    assert fc.time_to_assign == timedelta(0)
    assert fc.time_to_acknowledge == H  # from the first assignment, not the second
    assert fc.time_to_complete == 20 * H
    # Measured against the second assignment's windows, which it met.
    assert fc.ack_met is True and fc.due_met is True
    assert fc.ack_window == 2 * H and fc.due_by == T0 + 31 * M + 24 * H
    assert fc.status is TaskStatus.COMPLETED


def test_an_escalated_task_counts_steps_and_reminders_apart_and_misses_its_windows() -> None:
    br = by_key(task_metrics(story(), NOW))["briefing"]
    assert (br.escalation_steps, br.reminders, br.declines, br.reassignments) == (2, 1, 0, 0)
    assert br.time_to_acknowledge == 45 * M
    assert br.ack_met is False  # acknowledged 30 minutes after its deadline
    assert br.due_met is False  # still in progress past its due time
    assert br.completed_at is None and br.time_to_complete is None


def test_an_open_window_is_undecided_until_it_passes() -> None:
    br = by_key(task_metrics(story(), T0 + 3 * H))["briefing"]
    assert br.due_met is None
    assert by_key(task_metrics(story(), T0 + 4 * H + M))["briefing"].due_met is False


def test_a_skipped_task_keeps_its_reason_and_decides_no_window() -> None:
    press = by_key(task_metrics(story(), NOW))["press"]
    assert press.status is TaskStatus.SKIPPED
    assert press.skipped_reason == "no media interest"
    assert (press.ack_met, press.due_met, press.time_to_assign) == (None, None, None)


def test_completing_without_acknowledging_is_measured_against_the_acknowledge_window() -> None:
    fu1 = by_key(task_metrics(story(), NOW))["family-contact-follow-up-1"]
    assert fu1.acknowledged_at == T0 + 3 * H and fu1.ack_met is False
    assert fu1.due_met is True


def test_follow_ups_done_overdue_and_still_scheduled() -> None:
    counts = incident_metrics(story(), NOW, families).aggregates.follow_ups
    # Done: follow-up 1. Overdue: follow-up 2 (due 4 h after T0). Scheduled: follow-up 3 in
    # seven days; not the press follow-up, whose task was skipped.
    assert (counts.done, counts.overdue, counts.scheduled) == (1, 1, 1)
    early = incident_metrics(story(), T0 + 2 * H + M, families).aggregates.follow_ups
    assert (early.done, early.overdue, early.scheduled) == (1, 0, 2)


def test_no_follow_up_is_scheduled_once_the_incident_is_closed_or_its_run_cancelled() -> None:
    common = {"incident_id": INC, "actor": "renee.alvarez", "at": T0 + 5 * H, "reason": "x"}
    closed = IncidentClosed(event_id=f"{INC}.closed", **common)
    cancelled = PlaybookCancelled(event_id=f"{INC}.c", playbook_id="ois", **common)
    for last in (closed, cancelled):
        counts = incident_metrics([*story(), last], NOW, families).aggregates.follow_ups
        assert counts.scheduled == 0


def test_aggregates_per_role_family_phase_and_overall() -> None:
    aggregates = incident_metrics(story(), NOW, families).aggregates
    assert (aggregates.incidents, aggregates.tasks) == (1, 5)
    assert set(aggregates.by_role) == {"victim_advocate", "command_staff", "public_information"}
    assert set(aggregates.by_family) == {"victim_advocate", "command", "public_information"}
    assert set(aggregates.by_phase) == {"immediate", NO_PHASE}
    overall = aggregates.overall
    assert (overall.escalations, overall.reminders, overall.declines) == (2, 1, 1)
    assert (overall.reassignments, overall.skipped) == (1, 1)
    # Windows decided: family-contact 2 met; briefing 2 missed; fu-1 ack missed, due met;
    # fu-2 ack missed (never acknowledged), due missed (open past due).
    assert (overall.windows, overall.windows_met) == (8, 3)
    assert overall.share_met == pytest.approx(3 / 8)
    advocates = aggregates.by_role["victim_advocate"]
    assert advocates.tasks == 3 and advocates.declines == 1
    # Acknowledged: family-contact after 1 h, fu-1 (by completing) after 2 h.
    assert advocates.median_acknowledge == H and advocates.p90_acknowledge == 2 * H


def test_each_group_has_the_median_of_its_acknowledge_windows() -> None:
    """What the charts of time to acknowledge compare against, across incidents."""
    found = incident_metrics(story(), NOW, families)
    for role, group in found.aggregates.by_role.items():
        windows = sorted(t.ack_window for t in found.tasks if t.role == role and t.ack_window)
        expected = windows[(len(windows) - 1) // 2] if windows else None
        assert group.median_acknowledge_window == expected, role
    assert found.aggregates.by_role["victim_advocate"].median_acknowledge_window is not None


def test_a_role_with_several_families_counts_in_each() -> None:
    events = [
        e.model_copy(update={"task": e.task.model_copy(update={"role": "liaison_advocate"})})
        if isinstance(e, TaskEvent)
        else e
        for e in story()
    ]
    by_family = incident_metrics(events, NOW, families).aggregates.by_family
    assert by_family["community_liaison"].tasks == by_family["victim_advocate"].tasks == 5


def test_the_roster_says_which_families_a_role_is_in() -> None:
    roster = load_roster(ROOT / "rosters" / "example.yaml")
    of = families_in(roster)
    role = roster.roles[0]
    assert tuple(of(role.id)) == tuple(f.value for f in role.families)
    assert tuple(of("no-such-role")) == ()


def test_nearest_rank_median_and_p90() -> None:
    ten = [n * M for n in range(10, 0, -1)]
    assert nearest_rank(ten, 50) == 5 * M and nearest_rank(ten, 90) == 9 * M
    assert nearest_rank([M, 2 * M, 3 * M], 50) == 2 * M
    assert nearest_rank([M, 2 * M, 3 * M], 90) == 3 * M
    assert nearest_rank([7 * M], 90) == 7 * M
    assert nearest_rank([n * M for n in (5, 1, 4, 2, 3)], 50) == 3 * M  # rank ceil(2.5) = 3
    assert nearest_rank([], 50) is None
    assert summarise([]).median_acknowledge is None and summarise([]).share_met is None


def test_an_exercise_is_marked_on_its_tasks() -> None:
    events = [
        e.model_copy(update={"task": e.task.model_copy(update={"exercise": True})})
        if isinstance(e, TaskEvent)
        else e
        for e in story()
    ]
    events[0] = an_incident(exercise=True)
    assert all(t.exercise for t in task_metrics(events, NOW))
    assert not any(t.exercise for t in task_metrics(story(), NOW))


def _fold_all(events: list[tuple[int, AnyEvent]]) -> dict[str, TaskMetricsRecord]:
    facts = IncidentFacts("officer-involved-shooting", T0)
    records: dict[str, TaskMetricsRecord] = {}
    for seq, e in events:
        if isinstance(e, TaskEvent):
            key = e.task.task_id
            records[key] = fold_task(records.get(key), e, seq, facts)
    return records


def test_folding_in_any_order_or_twice_gives_the_same_records() -> None:
    events = story()
    numbered = list(enumerate(events, start=1))
    in_order = {r.task_id: r for r in records_of(events).tasks}
    shuffler = random.Random(10)
    for _ in range(20):
        mixed = numbered + shuffler.sample(numbered, k=len(numbered) // 2)
        shuffler.shuffle(mixed)
        assert _fold_all(mixed) == in_order


def test_the_record_carries_the_incident_type_and_when_it_was_logged() -> None:
    record = records_of(story()).tasks[0]
    assert record.incident_type == "officer-involved-shooting"
    assert record.incident_logged_at == T0
    with pytest.raises(ValueError, match="logged"):
        records_of(story()[1:])


def test_a_task_cancelled_after_its_deadline_missed_it_and_one_cancelled_within_did_not() -> None:
    events = story()
    briefing = next(e for e in events if isinstance(e, TaskEvent) and e.task.key == "briefing").task
    cancelled = briefing.model_copy(update={"status": TaskStatus.CANCELLED})
    late = by_key(task_metrics([*events, event(TaskCancelled, 300, cancelled)], NOW))
    assert (late["briefing"].ack_met, late["briefing"].due_met) == (False, False)
    fu2 = next(e for e in events if isinstance(e, TaskEvent) and e.task.key.endswith("-2")).task
    within = fu2.model_copy(update={"status": TaskStatus.CANCELLED})
    early = by_key(task_metrics([*events, event(TaskCancelled, 125, within)], NOW))
    assert (early[fu2.key].ack_met, early[fu2.key].due_met) == (None, None)
    # Never acknowledged, cancelled past its acknowledge deadline but within its due time.
    between = by_key(task_metrics([*events, event(TaskCancelled, 180, within)], NOW))
    assert (between[fu2.key].ack_met, between[fu2.key].due_met) == (False, None)
