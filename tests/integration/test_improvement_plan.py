"""The improvement plan on real servers (nats-server, an SMTP receiver): corrective actions are
tasks like any other — given to their owner after the incident closed, notified, escalated
when overdue, completed with a note — findings are listed in the order they were recorded, and
bad input or a responder is refused with one line, nothing appended."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import CloseIncident, ErrorCode, GetTimeline, LogIncident, TaskVerb
from schemas.enums import FindingKind, RoleFamily, Severity, TaskStatus
from schemas.events import TaskCancelled, TaskEscalated
from schemas.improvement import (
    IMPROVEMENT_PHASE,
    AddCorrectiveAction,
    AddFinding,
    CorrectiveAction,
    Finding,
    GetCorrectiveActions,
    GetFindings,
)
from schemas.limits import FINDING_MAX
from schemas.tasks import TaskSnapshot
from schemas.views import Timeline
from tests.integration.helpers import act
from tests.integration.notifier_stack import QUIET_TYPE, NotifierStack, notifier_stack
from tests.integration.receivers import SmtpSink, start_smtp
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration

# The default chain (peer support names none): its steps 15 minutes apart, 1.8 s at this scale.
SCALE = 0.002
OWNER = "aisha.grant"
OWNER_MAIL = "aisha.grant@example.org"
COMMAND = "renee.alvarez"


@pytest.fixture(scope="module")
def mail() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    controller = start_smtp(sink)
    yield sink, controller.port
    controller.stop()


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, mail: tuple[SmtpSink, int]
) -> AsyncIterator[NotifierStack]:
    sink, port = mail
    directory = tmp_path_factory.mktemp("plan")
    async with notifier_stack(directory, sink, f"smtp://127.0.0.1:{port}") as running:
        yield running


async def exercise(stack: NotifierStack) -> str:
    """An exercise no playbook is for, its windows at SCALE."""
    logged = LogIncident(
        request_id=request_id(), actor=COMMAND, incident_type=QUIET_TYPE, title="Review drill",
        severity=Severity.HIGH, auto_trigger=False, exercise=True, time_scale=SCALE,
    )  # fmt: skip
    reply = await stack.caller.ok(subjects.CMD_INCIDENT_LOG, logged)
    assert isinstance(reply.data, dict)
    incident_id: str = reply.data["incident"]["incident_id"]
    return incident_id


async def close(stack: NotifierStack, incident_id: str) -> None:
    command = CloseIncident(
        request_id=request_id(), actor=COMMAND, incident_id=incident_id, reason="Review time"
    )
    await stack.caller.ok(subjects.CMD_INCIDENT_CLOSE, command)


def action(incident_id: str, due_in: timedelta, **fields: Any) -> AddCorrectiveAction:
    values: dict[str, Any] = {
        "request_id": request_id(), "actor": COMMAND, "incident_id": incident_id,
        "text": "Add two Vietnamese-speaking advocates to the on-call roster", "owner": OWNER,
        "due_by": utc_now() + due_in,
    }  # fmt: skip
    return AddCorrectiveAction(**(values | fields))


async def actions_of(stack: NotifierStack, incident_id: str) -> list[CorrectiveAction]:
    reply = await stack.caller.ok(
        subjects.QRY_REVIEW_ACTIONS, GetCorrectiveActions(incident_id=incident_id)
    )
    return [CorrectiveAction.model_validate(a) for a in reply.data or []]


async def escalations(stack: NotifierStack, task: TaskSnapshot) -> list[TaskEscalated]:
    stored = await stack.rt.store.read(subjects.task_filter(task.incident_id, task.key))
    return [s.event for s in stored if isinstance(s.event, TaskEscalated)]


async def idle(stack: NotifierStack, consumer: str) -> bool:
    """The engine's consumer has handled everything up to now."""
    info = await stack.nc.jetstream().consumer_info(subjects.EVENTS_STREAM, consumer)
    return not info.num_pending and not info.num_ack_pending


async def in_inbox(stack: NotifierStack, person: str, task_id: str, kind: str) -> bool:
    return any(e["task_id"] == task_id and e["kind"] == kind for e in await stack.inbox(person))


async def test_an_action_on_a_closed_incident_is_assigned_notified_escalated_and_completed(
    stack: NotifierStack,
) -> None:
    incident_id = await exercise(stack)
    await close(stack, incident_id)
    reply = await stack.caller.ok(
        subjects.CMD_REVIEW_ACTION, action(incident_id, timedelta(seconds=2))
    )
    task = TaskSnapshot.model_validate(reply.data)
    assert (task.assignee, task.status, task.phase) == (
        OWNER,
        TaskStatus.ASSIGNED,
        "improvement-plan",
    )
    assert task.corrective_action and task.role == "peer_support" and not task.required
    # Notified, as any assignee is: in the inbox and by email.
    await eventually(lambda: in_inbox(stack, OWNER, task.task_id, "assigned"), timeout=20)

    async def mailed() -> bool:
        return any(incident_id in str(m["Message-ID"]) for m in stack.mails_to(OWNER_MAIL))

    await eventually(mailed, timeout=20)

    async def overdue_steps() -> list[TaskEscalated] | None:
        found = [e for e in await escalations(stack, task) if e.deadline == "due"]
        return found if len(found) >= 2 else None

    steps = await eventually(overdue_steps, timeout=30, interval=0.2)
    assert [(e.step, e.action) for e in steps[:2]] == [(1, "remind"), (2, "notify_coordinator")]
    assert steps[0].notify == (OWNER,) and steps[1].notify
    await eventually(lambda: in_inbox(stack, steps[1].notify[0], task.task_id, "escalation"))
    changed, done = await act(stack.caller, task, TaskVerb.COMPLETE, note="Two advocates added")
    assert changed and done.status is TaskStatus.COMPLETED
    [listed] = await actions_of(stack, incident_id)
    assert (listed.status, listed.note, listed.owner) == (
        TaskStatus.COMPLETED, "Two advocates added", OWNER,
    )  # fmt: skip
    assert listed.escalations >= 2 and listed.completed_at is not None
    timeline = Timeline.model_validate(
        (await stack.caller.ok(subjects.QRY_TIMELINE, GetTimeline(incident_id=incident_id))).data
    )
    assert any(f"gave corrective action {task.key} to {OWNER}" in e.text for e in timeline.entries)


async def test_closing_leaves_an_action_given_before_it_standing(stack: NotifierStack) -> None:
    incident_id = await exercise(stack)
    reply = await stack.caller.ok(
        subjects.CMD_REVIEW_ACTION, action(incident_id, timedelta(days=30))
    )
    task = TaskSnapshot.model_validate(reply.data)

    async def scheduled() -> set[str]:
        return await stack.rt.store.subjects(
            subjects.task_deadline_schedules(incident_id, task.key), stream=subjects.TIMERS_STREAM
        )

    await eventually(lambda: idle(stack, "engine-deadlines"))
    before = await scheduled()
    assert any("-ack-" in s for s in before) and any("-due-" in s for s in before)
    await close(stack, incident_id)
    await eventually(lambda: idle(stack, "engine-on-incident-closed"))
    await eventually(lambda: idle(stack, "engine-deadlines"))
    stored = await stack.rt.store.read(subjects.task_filter(incident_id, task.key))
    assert not any(isinstance(s.event, TaskCancelled) for s in stored)
    [listed] = await actions_of(stack, incident_id)
    assert listed.status is TaskStatus.ASSIGNED
    assert await scheduled() == before, "closing cleared its deadlines and set none again"


def finding(incident_id: str, kind: FindingKind, text: str, **fields: Any) -> AddFinding:
    return AddFinding(
        request_id=request_id(), actor=COMMAND, incident_id=incident_id, kind=kind, text=text,
        **fields,
    )  # fmt: skip


async def findings_of(stack: NotifierStack, incident_id: str) -> list[Finding]:
    reply = await stack.caller.ok(
        subjects.QRY_REVIEW_FINDINGS, GetFindings(incident_id=incident_id)
    )
    return [Finding.model_validate(f) for f in reply.data or []]


async def test_findings_are_listed_in_the_order_they_were_recorded_each_once(
    stack: NotifierStack,
) -> None:
    incident_id = await exercise(stack)
    await close(stack, incident_id)
    sent = [
        finding(incident_id, FindingKind.STRENGTH, "Families were reached within the hour",
                family=RoleFamily.VICTIM_ADVOCATE),
        finding(incident_id, FindingKind.IMPROVEMENT, "No Vietnamese speaker was on call"),
        finding(incident_id, FindingKind.IMPROVEMENT, "Actions were late", phase=IMPROVEMENT_PHASE),
    ]  # fmt: skip
    for each in sent:
        assert (await stack.caller.ok(subjects.CMD_REVIEW_FINDING, each)).changed
    again = await stack.caller.ok(subjects.CMD_REVIEW_FINDING, sent[1])  # a retry
    assert not again.changed
    listed = await findings_of(stack, incident_id)
    assert [(f.kind, f.text, f.family, f.phase) for f in listed] == [
        (s.kind, s.text, s.family, s.phase) for s in sent
    ]
    assert {f.recorded_by for f in listed} == {COMMAND}


def unchecked(model: type[BaseModel], **fields: Any) -> BaseModel:
    """A request as a client that skips the contract's checks would send it."""
    return model.model_construct(**fields)


async def history_size(stack: NotifierStack, incident_id: str) -> int:
    return len(await stack.rt.store.read(subjects.incident_events(incident_id)))


async def test_bad_input_is_refused_with_one_line_and_nothing_is_appended(
    stack: NotifierStack,
) -> None:
    incident_id = await exercise(stack)
    before = await history_size(stack, incident_id)
    base = {"request_id": request_id(), "actor": COMMAND, "incident_id": incident_id}
    long = "x" * (FINDING_MAX + 1)
    refused = {
        "unknown owner": action(incident_id, timedelta(days=1), owner="nobody.here"),
        "past date": action(incident_id, -timedelta(minutes=1)),
        "past day": action(incident_id, timedelta(0), due_by=None, due_on="2020-01-01"),
        "unknown phase": finding(incident_id, FindingKind.IMPROVEMENT, "Late", phase="no-such"),
        "empty text": unchecked(AddFinding, **base, kind=FindingKind.STRENGTH, text="   "),
        "too long": unchecked(AddFinding, **base, kind=FindingKind.STRENGTH, text=long),
        "control characters": unchecked(
            AddCorrectiveAction, **base, text="Fix\x1b]0;owned\x07 it", owner=OWNER,
            due_on="2099-01-01",
        ),
    }  # fmt: skip
    for why, command in refused.items():
        subject = (
            subjects.CMD_REVIEW_FINDING
            if isinstance(command, AddFinding)
            else subjects.CMD_REVIEW_ACTION
        )
        reply = await stack.caller(subject, command)
        assert not reply.ok and reply.error is not None, why
        assert reply.error.code is ErrorCode.INVALID_REQUEST, (why, reply.error)
        assert "\n" not in reply.error.message and reply.error.message, why
    assert await history_size(stack, incident_id) == before


async def test_a_responder_may_neither_record_nor_read_the_plan(stack: NotifierStack) -> None:
    incident_id = await exercise(stack)
    before = await history_size(stack, incident_id)
    as_responder = {"actor": OWNER}
    for subject, command in (
        (subjects.CMD_REVIEW_FINDING, finding(incident_id, FindingKind.STRENGTH, "Fine")),
        (subjects.CMD_REVIEW_ACTION, action(incident_id, timedelta(days=1))),
    ):
        reply = await stack.caller(subject, command.model_copy(update=as_responder))
        assert reply.error is not None and reply.error.code is ErrorCode.FORBIDDEN, reply
        assert "only command staff and reviewers" in reply.error.message
    for subject, query in (
        (subjects.QRY_REVIEW_FINDINGS, GetFindings(incident_id=incident_id)),
        (subjects.QRY_REVIEW_ACTIONS, GetCorrectiveActions(incident_id=incident_id)),
    ):
        reply = await stack.caller(subject, query, reader=OWNER)
        assert reply.error is not None and reply.error.code is ErrorCode.FORBIDDEN, reply
    assert await history_size(stack, incident_id) == before
