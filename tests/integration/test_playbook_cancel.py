"""Cancelling a playbook triggered by mistake, on a real nats-server: its open tasks are
cancelled, nothing of it fires later, and another playbook runs (and completes) after it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import (
    CancelPlaybook,
    CloseIncident,
    ErrorCode,
    GetIncident,
    LogIncident,
    Reply,
    TaskVerb,
)
from schemas.enums import IncidentStatus, Severity, TaskStatus
from schemas.events import FollowUpDue, IncidentLogged, PlaybookCancelled
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentSummary
from services.core.errors import Refused
from services.core.eventstore import Expect
from services.core.runtime import Runtime
from services.engine.commands import start_run
from tests.integration.conftest import Caller
from tests.integration.helpers import (
    act,
    log_incident,
    tasks_of,
    trigger,
    wait_for_status,
    wait_for_tasks,
)
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration

ENDED = (TaskStatus.CANCELLED, TaskStatus.COMPLETED, TaskStatus.SKIPPED)


async def cancel(caller: Caller, incident_id: str, actor: str = "renee.alvarez") -> Reply:
    return await caller(
        subjects.CMD_PLAYBOOK_CANCEL,
        CancelPlaybook(
            request_id=request_id(), actor=actor, incident_id=incident_id, reason="Wrong type"
        ),
    )


async def summary_of(caller: Caller, incident_id: str) -> IncidentSummary:
    reply = await caller.ok(subjects.QRY_INCIDENT_GET, GetIncident(incident_id=incident_id))
    return IncidentSummary.model_validate(reply.data)


async def test_a_cancelled_run_ends_and_another_playbook_completes_after_it(
    caller: Caller,
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    first = await wait_for_tasks(caller, incident_id, 5)
    await act(caller, first["defusing"], TaskVerb.COMPLETE)
    await wait_for_status(caller, incident_id, "debriefing", "assigned")

    reply = await cancel(caller, incident_id)
    assert reply.ok and reply.changed, reply
    assert isinstance(reply.data, dict)
    # defusing was done; the other four (debriefing released, three open or waiting) were not.
    assert (reply.data["playbook_id"], reply.data["run"], reply.data["cancelled_tasks"]) == (
        "drill-chain",
        1,
        4,
    )

    async def all_ended() -> dict[str, TaskSnapshot] | None:
        found = await tasks_of(caller, incident_id)  # the projection follows the stream
        others = [t for k, t in found.items() if k != "defusing"]
        return found if all(t.status is TaskStatus.CANCELLED for t in others) else None

    ended = await eventually(all_ended)
    assert ended["defusing"].status is TaskStatus.COMPLETED
    again = await cancel(caller, incident_id)
    assert again.ok and not again.changed

    async def cancelled_shown() -> IncidentSummary | None:
        summary = await summary_of(caller, incident_id)
        return summary if summary.playbook_cancelled_at else None

    shown = await eventually(cancelled_shown)
    assert (shown.playbook_cancelled_by, shown.playbook_cancel_reason) == (
        "renee.alvarez",
        "Wrong type",
    )
    assert shown.status is IncidentStatus.ACTIVE

    retriggered = await trigger(caller, incident_id, "drill-chain")
    assert retriggered.ok and retriggered.changed, retriggered
    assert isinstance(retriggered.data, dict) and retriggered.data["run"] == 2
    tasks = await wait_for_tasks(caller, incident_id, 10)
    second = {k: t for k, t in tasks.items() if t.run == 2}
    assert set(second) == {f"{k}-r2" for k in first}
    # The first run's completed defusing releases nothing of the second run.
    assert second["debriefing-r2"].status is TaskStatus.WAITING
    assert second["debriefing-r2"].depends_on == ("defusing-r2",)

    for key in ("defusing-r2", "family-contact-r2"):
        await act(caller, second[key], TaskVerb.COMPLETE)
    for key in ("debriefing-r2", "review-r2"):
        released = await wait_for_status(caller, incident_id, key, "assigned")
        await act(caller, released, TaskVerb.COMPLETE)

    async def completed() -> IncidentSummary | None:
        summary = await summary_of(caller, incident_id)
        return summary if summary.status is IncidentStatus.RESPONSE_COMPLETE else None

    done = await eventually(completed)
    assert (done.playbook_id, done.playbook_run, done.playbook_cancelled_at) == (
        "drill-chain",
        2,
        None,
    )


async def test_a_cancelled_runs_follow_ups_never_fire(caller: Caller, runtime: Runtime) -> None:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_type="drill-rich",
            title="Follow-ups to cancel",
            severity=Severity.HIGH,
            attributes={"person_deceased": "true"},
        ),
    )
    assert isinstance(reply.data, dict)
    incident_id = reply.data["incident"]["incident_id"]
    await wait_for_status(caller, incident_id, "notification-support", "assigned")

    async def pending() -> set[str]:
        return await runtime.store.subjects(
            subjects.follow_up_schedule(incident_id, "*"), stream=subjects.TIMERS_STREAM
        )

    await eventually(lambda: _count_is(pending, 2))
    assert (await cancel(caller, incident_id)).ok
    assert await pending() == set()

    # A timer that fired anyway (it was on its way) records nothing.
    late = FollowUpDue(
        event_id=f"{incident_id}.notification-support.follow-up-1.due",
        incident_id=incident_id,
        actor="engine",
        at=utc_now(),
        parent_key="notification-support",
        number=1,
        due_at=utc_now(),
    )
    await runtime.store.schedule(
        subjects.follow_up_schedule(incident_id, "notification-support-follow-up-1"),
        subjects.follow_up_timer(incident_id, "notification-support-follow-up-1"),
        utc_now(),
        late,
    )
    scheduled_at = (await runtime.js.stream_info(subjects.TIMERS_STREAM)).state.last_seq

    async def handled() -> bool:
        info = await runtime.js.consumer_info(subjects.TIMERS_STREAM, "engine-on-follow-up-timer")
        return info.delivered.stream_seq > scheduled_at and not info.num_ack_pending

    await eventually(handled)
    assert await runtime.store.subjects(subjects.incident_follow_ups_due(incident_id)) == set()


async def _count_is(found: Callable[[], Awaitable[set[str]]], count: int) -> bool:
    return len(await found()) == count


async def test_the_reaction_winds_the_run_down_when_the_command_died_after_appending(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    await wait_for_tasks(caller, incident_id, 5)
    # In place, so nothing else is appended to the run before the cancel below.
    last = await eventually(lambda: runtime.store.last(subjects.run_in_place(incident_id)))
    await runtime.store.append(
        subjects.playbook_cancelled(incident_id),
        PlaybookCancelled(
            event_id=f"{incident_id}.playbook.cancelled",
            incident_id=incident_id,
            actor="renee.alvarez",
            at=utc_now(),
            playbook_id="drill-chain",
            reason="Crashed right after",
        ),
        Expect(subjects.playbook_filter(incident_id), last.seq),
    )

    async def all_ended() -> bool:
        return all(t.status in ENDED for t in (await tasks_of(caller, incident_id)).values())

    await eventually(all_ended)


async def test_who_may_cancel_and_when(caller: Caller, runtime: Runtime) -> None:
    incident_id = await log_incident(caller, "drill-chain", auto_trigger=False)
    none_yet = await cancel(caller, incident_id)
    assert none_yet.error is not None and none_yet.error.code is ErrorCode.NOT_FOUND
    assert (await trigger(caller, incident_id, "drill-chain")).ok
    await wait_for_tasks(caller, incident_id, 5)

    other = await trigger(caller, incident_id, "drill-manual")
    assert other.error is not None
    assert f"pathways playbook cancel {incident_id}" in other.error.message

    refused = await cancel(caller, incident_id, actor="dana.reyes")
    assert refused.error is not None and refused.error.code is ErrorCode.FORBIDDEN
    assert "only command staff cancel a playbook" in refused.error.message

    assert (await cancel(caller, incident_id)).ok
    # Only a person starts another run: a redelivered incident.logged starts nothing.
    logged = await runtime.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
    assert logged is not None
    with pytest.raises(Refused, match="was cancelled"):
        await start_run(runtime, logged.event, "drill-chain", how="automatic", actor="engine")

    await caller.ok(
        subjects.CMD_INCIDENT_CLOSE,
        CloseIncident(
            request_id=request_id(), actor="renee.alvarez", incident_id=incident_id, reason="x"
        ),
    )
    closed = await cancel(caller, incident_id)
    assert closed.error is not None and "is closed" in closed.error.message
    after_close = await trigger(caller, incident_id, "drill-manual")
    assert after_close.error is not None and "is closed" in after_close.error.message
