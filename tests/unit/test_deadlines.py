"""Deadlines that fire: which timers a task needs, and what each does when it fires — once,
for the assignment it was set for, and never after the task moved on."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from schemas.enums import TaskStatus
from schemas.escalation import DEFAULT_CHAIN, EscalationChain, EscalationStep, flattened
from schemas.events import DeadlineReached, TaskEscalated, TaskReminded
from schemas.tasks import TaskSnapshot
from services.engine import clock, deadlines
from services.engine.deadlines import People, Timer
from tests.unit.factories import T0, a_task

MINUTE = timedelta(minutes=1)
PEOPLE = People(
    next_assignee="sam.whitfield", coordinators=("lee.chen",), command_staff=("renee.alvarez",)
)


def assigned(**changes: object) -> TaskSnapshot:
    return a_task(
        assignment=1,
        assigned_at=T0,
        acknowledge_window=timedelta(hours=2),
        due_window=timedelta(days=1),
        **changes,
    )


def fired(timer: Timer) -> DeadlineReached:
    return DeadlineReached(
        event_id=f"x.{timer.token}",
        incident_id="INC-AAAAAAAA",
        actor="engine",
        at=timer.at,
        task_key="family-contact",
        kind=timer.kind,
        assignment=timer.assignment,
        number=timer.number,
    )


def by_kind(timers: list[Timer]) -> dict[str, list[Timer]]:
    found: dict[str, list[Timer]] = {}
    for timer in timers:
        found.setdefault(timer.kind, []).append(timer)
    return found


def test_an_assigned_task_has_a_reminder_and_both_chains() -> None:
    task = assigned()
    timers = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 1.0))
    assert [t.at for t in timers["remind"]] == [task.due_by - timedelta(hours=1)]  # type: ignore[operator]
    assert [t.at - task.acknowledge_by for t in timers["ack"]] == [  # type: ignore[operator]
        timedelta(0),
        15 * MINUTE,
        30 * MINUTE,
        45 * MINUTE,
    ]
    assert [t.number for t in timers["due"]] == [1, 2, 3, 4]


def test_acknowledging_stops_acknowledge_escalation_and_completing_stops_everything() -> None:
    acknowledged = by_kind(
        deadlines.timers_for(assigned(status=TaskStatus.ACKNOWLEDGED), DEFAULT_CHAIN, 1.0)
    )
    assert "ack" not in acknowledged and acknowledged["due"]
    for status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.UNASSIGNED):
        assert deadlines.timers_for(assigned(status=status), DEFAULT_CHAIN, 1.0) == []


def test_the_time_scale_shortens_every_wait_and_a_short_window_gets_no_reminder() -> None:
    task = assigned(due_by=T0 + timedelta(minutes=30))
    timers = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 0.01))
    assert timers["remind"][0].at == task.due_by - timedelta(seconds=36)  # type: ignore[operator]
    assert timers["ack"][1].at - timers["ack"][0].at == timedelta(seconds=9)
    unscaled = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 1.0))
    assert "remind" not in unscaled  # an hour before the due time is before it was assigned


def test_repeats_run_the_steps_again_after_a_pause() -> None:
    chain = EscalationChain(
        steps=(
            EscalationStep(action="remind"),
            EscalationStep(action="notify_command", wait=MINUTE),
        ),
        repeat=3,
        repeat_after=10 * MINUTE,
    )
    offsets = [flat.after_deadline for flat in flattened(chain)]
    assert offsets == [timedelta(0), MINUTE, 11 * MINUTE, 12 * MINUTE, 22 * MINUTE, 23 * MINUTE]


def test_each_step_runs_once_and_in_its_own_way() -> None:
    task = assigned()
    ack = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 1.0))["ack"]
    reminded = deadlines.decide(task, fired(ack[0]), DEFAULT_CHAIN, PEOPLE, T0)
    assert isinstance(reminded, TaskEscalated)
    assert (reminded.action, reminded.notify, reminded.step) == ("remind", ("priya.nair",), 1)
    assert deadlines.decide(reminded.task, fired(ack[0]), DEFAULT_CHAIN, PEOPLE, T0) is None
    assert ack[0].token not in {
        t.token for t in deadlines.timers_for(reminded.task, DEFAULT_CHAIN, 1)
    }

    told = deadlines.decide(reminded.task, fired(ack[1]), DEFAULT_CHAIN, PEOPLE, T0)
    assert isinstance(told, TaskEscalated) and told.notify == ("lee.chen",)

    now = T0 + timedelta(hours=3)
    moved = deadlines.decide(told.task, fired(ack[2]), DEFAULT_CHAIN, PEOPLE, now)
    assert isinstance(moved, TaskEscalated) and moved.action == "reassign"
    new = moved.task
    assert (new.assignee, moved.missed_by, new.assignment, new.assigned_at) == (
        "sam.whitfield",
        "priya.nair",
        2,
        now,
    )
    assert new.acknowledge_by == now + timedelta(hours=2)  # their own clock
    # The old assignee's remaining step no longer applies; the new one's chain goes on from
    # the step after the reassignment, counted from the new deadline.
    assert deadlines.decide(new, fired(ack[3]), DEFAULT_CHAIN, PEOPLE, now) is None
    after = by_kind(deadlines.timers_for(new, DEFAULT_CHAIN, 1.0))["ack"]
    assert [(t.number, t.at - new.acknowledge_by) for t in after] == [(4, 15 * MINUTE)]
    command = deadlines.decide(new, fired(after[0]), DEFAULT_CHAIN, PEOPLE, now)
    assert isinstance(command, TaskEscalated) and command.notify == ("renee.alvarez",)


def test_nothing_fires_once_the_task_moved_on() -> None:
    task = assigned()
    timers = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 1.0))
    acknowledged = task.model_copy(update={"status": TaskStatus.ACKNOWLEDGED})
    assert (
        deadlines.decide(acknowledged, fired(timers["ack"][0]), DEFAULT_CHAIN, PEOPLE, T0) is None
    )
    done = task.model_copy(update={"status": TaskStatus.COMPLETED})
    for timer in timers["due"] + timers["remind"]:
        assert deadlines.decide(done, fired(timer), DEFAULT_CHAIN, PEOPLE, T0) is None
    handed = clock.handed_to(task, "sam.whitfield", T0)
    assert deadlines.decide(handed, fired(timers["ack"][0]), DEFAULT_CHAIN, PEOPLE, T0) is None
    reminder = deadlines.decide(task, fired(timers["remind"][0]), DEFAULT_CHAIN, PEOPLE, T0)
    assert isinstance(reminder, TaskReminded) and reminder.due_by == task.due_by


def test_reassigning_with_nobody_left_keeps_the_task_and_says_so() -> None:
    task = assigned()
    step = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 1.0))["ack"][2]
    nobody = People(next_assignee=None, coordinators=(), command_staff=())
    kept = deadlines.decide(task, fired(step), DEFAULT_CHAIN, nobody, T0)
    assert isinstance(kept, TaskEscalated) and kept.action == "reassign"
    assert (kept.task.assignee, kept.task.assignment, kept.notify) == ("priya.nair", 1, ())


def test_a_later_clock_never_moves_a_planned_deadline_earlier() -> None:
    planned = assigned(acknowledge_by=T0 + timedelta(days=3))
    handed = clock.handed_to(planned, "sam.whitfield", T0)
    assert handed.acknowledge_by == T0 + timedelta(days=3)
    waiting = clock.handed_to(assigned(status=TaskStatus.WAITING), "sam.whitfield", T0)
    assert (waiting.status, waiting.assigned_at) == (TaskStatus.WAITING, T0)


@given(st.lists(st.integers(min_value=0, max_value=11), max_size=40))
def test_whatever_order_and_how_often_timers_fire_each_step_runs_at_most_once(
    order: list[int],
) -> None:
    task = assigned()
    timers = deadlines.timers_for(task, DEFAULT_CHAIN, 1.0)
    ran: list[str] = []
    for index in order:
        timer = timers[index % len(timers)]
        event = deadlines.decide(task, fired(timer), DEFAULT_CHAIN, PEOPLE, T0)
        if event is not None:
            ran.append(f"{timer.kind}.{timer.assignment}.{timer.number}")
            task = event.task
    assert len(ran) == len(set(ran))
    assert set(task.escalated) >= set(ran)


def test_timers_that_fire_together_run_their_steps_in_order() -> None:
    task = assigned()
    ack = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 1.0))["ack"]
    ordered = deadlines.in_order(task, fired(ack[3]))
    assert [f.number for f in ordered] == [1, 2, 3, 4]
    now = T0 + timedelta(hours=3)
    for step in ordered:
        event = deadlines.decide(task, step, DEFAULT_CHAIN, PEOPLE, now)
        if event is not None:
            task = event.task
    # The reassignment (step 3) made the old assignee's step 4 moot: it runs in the new chain.
    assert (task.assignee, task.assignment) == ("sam.whitfield", 2)
    assert task.escalated == ("ack.1.1", "ack.1.2", "ack.1.3")
    assert deadlines.in_order(task, fired(ack[3])) == [fired(ack[3])]


def test_each_timer_names_the_step_it_stands_for_so_only_its_people_are_looked_up() -> None:
    timers = by_kind(deadlines.timers_for(assigned(), DEFAULT_CHAIN, 1.0))
    actions = [deadlines.action_of(fired(t), DEFAULT_CHAIN) for t in timers["ack"]]
    assert actions == ["remind", "notify_coordinator", "reassign", "notify_command"]
    assert deadlines.action_of(fired(timers["remind"][0]), DEFAULT_CHAIN) is None
    shortened = EscalationChain(steps=(EscalationStep(action="remind"),))
    assert deadlines.action_of(fired(timers["ack"][3]), shortened) is None


def test_after_a_reassignment_both_chains_go_on_so_an_unanswered_task_reaches_command() -> None:
    # Were the other chain to start afresh, a task nobody answers would be handed on by the
    # acknowledge chain, then by the due chain, then by the acknowledge chain again, for ever.
    task = assigned()
    ack = by_kind(deadlines.timers_for(task, DEFAULT_CHAIN, 1.0))["ack"]
    now = T0 + timedelta(hours=3)
    moved = deadlines.decide(task, fired(ack[2]), DEFAULT_CHAIN, PEOPLE, now)
    assert isinstance(moved, TaskEscalated) and moved.action == "reassign"
    after = by_kind(deadlines.timers_for(moved.task, DEFAULT_CHAIN, 1.0))
    assert [t.number for t in after["ack"]] == [4]
    assert [t.number for t in after["due"]] == [4]  # straight to command staff
    assert [t.number for t in after["remind"]] == [1]  # the new assignee is still reminded
