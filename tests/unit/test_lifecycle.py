from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.commands import ActOnTask, ErrorCode, TaskVerb
from schemas.enums import TaskStatus
from schemas.events import TaskAcknowledged, TaskCompleted, TaskDeclined, TaskStarted
from schemas.tasks import TaskSnapshot
from services.core.errors import Refused
from services.engine import lifecycle
from services.engine.assignment import next_in_rotation
from services.engine.lifecycle import decide, reassign, release
from tests.unit.factories import T0, a_task


def command(verb: TaskVerb, actor: str = "priya.nair", **extra: str) -> ActOnTask:
    return ActOnTask(
        request_id="req-00000001",
        actor=actor,
        verb=verb,
        task_id="INC-AAAAAAAA.family-contact",
        **extra,
    )


@pytest.mark.parametrize(
    ("status", "verb", "after", "event_type"),
    [
        (TaskStatus.ASSIGNED, TaskVerb.ACKNOWLEDGE, TaskStatus.ACKNOWLEDGED, TaskAcknowledged),
        (TaskStatus.ASSIGNED, TaskVerb.START, TaskStatus.IN_PROGRESS, TaskStarted),
        (TaskStatus.ACKNOWLEDGED, TaskVerb.START, TaskStatus.IN_PROGRESS, TaskStarted),
        (TaskStatus.ASSIGNED, TaskVerb.COMPLETE, TaskStatus.COMPLETED, TaskCompleted),
        (TaskStatus.ACKNOWLEDGED, TaskVerb.COMPLETE, TaskStatus.COMPLETED, TaskCompleted),
        (TaskStatus.IN_PROGRESS, TaskVerb.COMPLETE, TaskStatus.COMPLETED, TaskCompleted),
    ],
)
def test_assignee_moves_the_task_forward(
    status: TaskStatus, verb: TaskVerb, after: TaskStatus, event_type: type
) -> None:
    event = decide(a_task(status=status), command(verb), T0)
    assert event is not None
    assert isinstance(event, event_type)
    assert event.task.status is after
    assert event.actor == "priya.nair"
    assert event.event_id == f"INC-AAAAAAAA.family-contact.{verb}.req-00000001"


@pytest.mark.parametrize(
    ("status", "verb"),
    [
        (TaskStatus.ACKNOWLEDGED, TaskVerb.ACKNOWLEDGE),
        (TaskStatus.IN_PROGRESS, TaskVerb.ACKNOWLEDGE),
        (TaskStatus.IN_PROGRESS, TaskVerb.START),
        (TaskStatus.COMPLETED, TaskVerb.ACKNOWLEDGE),
        (TaskStatus.COMPLETED, TaskVerb.START),
        (TaskStatus.COMPLETED, TaskVerb.COMPLETE),
    ],
)
def test_a_step_already_taken_decides_nothing(status: TaskStatus, verb: TaskVerb) -> None:
    assert decide(a_task(status=status), command(verb), T0) is None


def test_completion_keeps_the_note() -> None:
    event = decide(a_task(), command(TaskVerb.COMPLETE, note="Family reached"), T0)
    assert event is not None and event.task.note == "Family reached"


@pytest.mark.parametrize("verb", list(TaskVerb))
def test_only_the_assignee_may_act(verb: TaskVerb) -> None:
    with pytest.raises(Refused) as refused:
        decide(a_task(), command(verb, actor="dana.reyes", reason="x"), T0)
    assert refused.value.code is ErrorCode.NOT_ASSIGNEE
    assert "assigned to priya.nair, not to dana.reyes" in refused.value.message


def test_waiting_task_names_its_prerequisites() -> None:
    task = a_task(status=TaskStatus.WAITING, depends_on=("notification",))
    with pytest.raises(Refused, match="waiting on notification") as refused:
        decide(task, command(TaskVerb.ACKNOWLEDGE), T0)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION


def test_unassigned_task_cannot_be_acknowledged() -> None:
    task = a_task(status=TaskStatus.UNASSIGNED, assignee=None)
    with pytest.raises(Refused, match="not assigned to anyone"):
        decide(task, command(TaskVerb.ACKNOWLEDGE), T0)


def test_decline_returns_the_task_to_the_pool() -> None:
    event = decide(a_task(), command(TaskVerb.DECLINE, reason="On leave"), T0)
    assert isinstance(event, TaskDeclined)
    assert event.reason == "On leave"
    assert event.task.status is TaskStatus.UNASSIGNED
    assert event.task.assignee is None
    assert event.task.declined_by == ("priya.nair",)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_decline_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(Refused, match="needs a reason") as refused:
        decide(
            a_task(),
            ActOnTask(
                request_id="req-00000001",
                actor="priya.nair",
                verb=TaskVerb.DECLINE,
                task_id="INC-AAAAAAAA.family-contact",
                reason=reason,
            ),
            T0,
        )
    assert refused.value.code is ErrorCode.INVALID_REQUEST


def test_repeated_decline_by_the_same_person_decides_nothing() -> None:
    task = a_task(assignee="sam.whitfield", declined_by=("priya.nair",))
    assert decide(task, command(TaskVerb.DECLINE, reason="again"), T0) is None


def test_completed_task_cannot_be_declined() -> None:
    with pytest.raises(Refused, match="already completed"):
        decide(a_task(status=TaskStatus.COMPLETED), command(TaskVerb.DECLINE, reason="x"), T0)


def test_release_moves_a_waiting_task_to_its_assignee() -> None:
    event = release(a_task(status=TaskStatus.WAITING), T0)
    assert event is not None and event.task.status is TaskStatus.ASSIGNED
    assert release(a_task(status=TaskStatus.ASSIGNED), T0) is None


def test_release_without_assignee_puts_the_task_in_the_pool() -> None:
    event = release(a_task(status=TaskStatus.WAITING, assignee=None), T0)
    assert event is not None and event.task.status is TaskStatus.UNASSIGNED


def test_reassign_picks_the_next_holder_who_has_not_declined() -> None:
    pool = a_task(status=TaskStatus.UNASSIGNED, assignee=None, declined_by=("sam.whitfield",))
    event = reassign(pool, ["priya.nair", "sam.whitfield", "lena.morales"], T0)
    assert event is not None
    assert event.task.assignee == "lena.morales"
    assert event.previous_assignee == "sam.whitfield"
    assert event.task.status is TaskStatus.ASSIGNED


def test_reassign_leaves_the_task_in_the_pool_when_everyone_declined() -> None:
    pool = a_task(status=TaskStatus.UNASSIGNED, assignee=None, declined_by=("a", "b"))
    assert reassign(pool, ["a", "b"], T0) is None


def test_rotation_wraps_around_and_skips_excluded() -> None:
    assert next_in_rotation(["a", "b", "c"], "c", exclude=set()) == "a"
    assert next_in_rotation(["a", "b", "c"], "a", exclude={"b"}) == "c"
    assert next_in_rotation(["a", "b", "c"], None, exclude=set()) == "a"
    assert next_in_rotation([], None, exclude=set()) is None


def test_a_waiting_task_declined_keeps_waiting_for_its_prerequisites() -> None:
    waiting = a_task(status=TaskStatus.WAITING, depends_on=("notification",))
    declined = decide(waiting, command(TaskVerb.DECLINE, reason="Conflict of interest"), T0)
    assert declined is not None and declined.task.status is TaskStatus.WAITING
    assert declined.task.assignee is None
    handed_on = reassign(declined.task, ["priya.nair", "sam.whitfield"], T0)
    assert handed_on is not None
    assert handed_on.task.status is TaskStatus.WAITING
    assert handed_on.task.assignee == "sam.whitfield"


def test_skipped_task_refuses_every_step() -> None:
    task = a_task(status=TaskStatus.SKIPPED, assignee=None)
    for verb in (TaskVerb.ACKNOWLEDGE, TaskVerb.START, TaskVerb.COMPLETE):
        with pytest.raises(Refused) as refused:
            decide(task, command(verb), T0)
        assert refused.value.code is ErrorCode.INVALID_TRANSITION
        assert (
            refused.value.message
            == "task INC-AAAAAAAA.family-contact was skipped for this incident"
        )


def test_waiting_task_names_every_prerequisite() -> None:
    task = a_task(status=TaskStatus.WAITING, depends_on=("notification", "debriefing"))
    with pytest.raises(Refused) as refused:
        decide(task, command(TaskVerb.START), T0)
    assert refused.value.message == (
        "task INC-AAAAAAAA.family-contact is waiting on notification, debriefing to complete first"
    )


@pytest.mark.parametrize("status", [TaskStatus.UNASSIGNED, TaskStatus.ASSIGNED])
def test_a_task_nobody_holds_cannot_be_moved(status: TaskStatus) -> None:
    with pytest.raises(Refused) as refused:
        decide(a_task(status=status, assignee=None), command(TaskVerb.ACKNOWLEDGE), T0)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert refused.value.message == "task INC-AAAAAAAA.family-contact is not assigned to anyone"


@pytest.mark.parametrize("verb", [TaskVerb.ACKNOWLEDGE, TaskVerb.START])
def test_only_completion_records_a_note(verb: TaskVerb) -> None:
    event = decide(a_task(note="Earlier note"), command(verb, note="Not a completion note"), T0)
    assert event is not None and event.task.note == "Earlier note"


def test_skipped_task_cannot_be_declined() -> None:
    with pytest.raises(Refused) as refused:
        decide(a_task(status=TaskStatus.SKIPPED), command(TaskVerb.DECLINE, reason="x"), T0)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert refused.value.message == "task INC-AAAAAAAA.family-contact is already skipped"


def test_declining_a_task_nobody_holds_says_so() -> None:
    task = a_task(status=TaskStatus.UNASSIGNED, assignee=None)
    with pytest.raises(Refused) as refused:
        decide(task, command(TaskVerb.DECLINE, reason="x"), T0)
    assert refused.value.code is ErrorCode.NOT_ASSIGNEE
    assert refused.value.message == (
        "task INC-AAAAAAAA.family-contact is assigned to nobody, not to priya.nair"
    )


def test_decline_without_a_reason_says_how_to_give_one() -> None:
    with pytest.raises(Refused) as refused:
        decide(a_task(), command(TaskVerb.DECLINE), T0)
    assert refused.value.message == "a decline needs a reason (--reason)"


def test_release_sets_the_deadlines_counted_from_the_prerequisites() -> None:
    acknowledge_by, due_by = T0 + timedelta(days=3), T0 + timedelta(days=5)
    event = release(a_task(status=TaskStatus.WAITING), T0, (acknowledge_by, due_by))
    assert event is not None
    assert (event.task.acknowledge_by, event.task.due_by) == (acknowledge_by, due_by)
    assert event.actor == "engine"
    assert event.event_id == "INC-AAAAAAAA.family-contact.released"


def test_release_without_new_deadlines_keeps_the_task_s_own() -> None:
    waiting = a_task(status=TaskStatus.WAITING)
    event = release(waiting, T0)
    assert event is not None
    assert (event.task.acknowledge_by, event.task.due_by) == (
        waiting.acknowledge_by,
        waiting.due_by,
    )


def test_reassign_hands_a_never_declined_task_to_the_first_holder() -> None:
    pool = a_task(status=TaskStatus.UNASSIGNED, assignee=None)
    event = reassign(pool, ["sam.whitfield", "priya.nair"], T0)
    assert event is not None
    assert event.task.assignee == "sam.whitfield"
    assert event.previous_assignee is None
    assert event.actor == "engine"
    assert event.event_id == "INC-AAAAAAAA.family-contact.assigned.0"


@pytest.mark.parametrize(
    "task",
    [
        a_task(status=TaskStatus.WAITING),  # waiting, but someone already holds it
        a_task(status=TaskStatus.ASSIGNED),
        a_task(status=TaskStatus.COMPLETED, assignee=None),
    ],
)
def test_reassign_leaves_a_task_that_is_held_or_moving_alone(task: TaskSnapshot) -> None:
    assert reassign(task, ["sam.whitfield", "priya.nair"], T0) is None


@pytest.mark.parametrize(
    "status",
    [TaskStatus.WAITING, TaskStatus.UNASSIGNED, TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED,
     TaskStatus.IN_PROGRESS],
)  # fmt: skip
def test_closing_cancels_a_task_not_yet_done(status: TaskStatus) -> None:
    task = a_task(status=status)
    cancelled = lifecycle.cancel(task, T0, "renee.alvarez")
    assert cancelled is not None
    assert cancelled.event_id == f"{task.task_id}.cancelled"
    assert (cancelled.actor, cancelled.at, cancelled.incident_id) == (
        "renee.alvarez",
        T0,
        task.incident_id,
    )
    assert cancelled.task == task.model_copy(update={"status": TaskStatus.CANCELLED})


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.SKIPPED, TaskStatus.CANCELLED])
def test_closing_leaves_a_task_that_is_done_as_it_is(status: TaskStatus) -> None:
    assert lifecycle.cancel(a_task(status=status), T0, "renee.alvarez") is None


@pytest.mark.parametrize("verb", list(TaskVerb))
def test_a_cancelled_task_refuses_every_action(verb: TaskVerb) -> None:
    task = a_task(status=TaskStatus.CANCELLED)
    command = ActOnTask(
        request_id="req-00000009", actor="priya.nair", verb=verb, task_id=task.task_id, reason="x"
    )
    with pytest.raises(Refused) as refused:
        lifecycle.decide(task, command, T0)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert (
        refused.value.message == f"task {task.task_id} was cancelled when its incident was closed"
    )
