"""The engine runs the richer playbook language exactly, on a real nats-server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas import subjects
from schemas.commands import GetPlaybook, LogIncident, TaskVerb
from schemas.enums import TaskStatus
from schemas.events import TaskCreated, TaskEvent, TaskSkipped
from schemas.playbook import PinnedPlaybook
from schemas.playbook_validation import parse_playbook
from schemas.tasks import TaskSnapshot
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.helpers import act, close, tasks_of, wait_for_status, wait_for_tasks
from tests.support import FIXTURES, eventually, request_id

pytestmark = pytest.mark.integration

DAY = 86400.0


async def log(caller: Caller, attributes: dict[str, str], *, time_scale: float = 1.0) -> str:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_type="drill-rich",
            title="Drill",
            attributes=attributes,
            exercise=time_scale != 1.0,
            time_scale=time_scale,
        ),
    )
    assert isinstance(reply.data, dict)
    incident_id: str = reply.data["incident"]["incident_id"]
    return incident_id


async def test_conditions_are_evaluated_once_and_skips_are_recorded(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log(caller, {"person_deceased": "no", "people_hurt": "3"})
    tasks = await wait_for_tasks(caller, incident_id, 4)
    assert tasks["notification-support"].status is TaskStatus.SKIPPED
    assert tasks["injury-outreach"].status is TaskStatus.ASSIGNED
    stored = await runtime.store.read(subjects.task_filter(incident_id, "notification-support"))
    skipped = stored[-1].event
    assert isinstance(skipped, TaskSkipped)
    assert skipped.reason == "condition not met: person_deceased"


async def test_task_waiting_on_a_skipped_task_is_released(caller: Caller) -> None:
    incident_id = await log(caller, {"person_deceased": "false"})
    await wait_for_status(caller, incident_id, "memorial-planning", "assigned")
    tasks = await tasks_of(caller, incident_id)
    assert tasks["injury-outreach"].status is TaskStatus.SKIPPED  # people_hurt missing: falsy


async def test_windows_anchored_on_prerequisites_start_when_they_complete(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log(caller, {"person_deceased": "true"})
    tasks = await wait_for_tasks(caller, incident_id, 4)
    waiting = tasks["memorial-planning"]
    assert waiting.status is TaskStatus.WAITING
    assert waiting.acknowledge_by is None and waiting.due_by is None

    await act(caller, tasks["notification-support"], TaskVerb.COMPLETE, note="done")
    released = await wait_for_status(caller, incident_id, "memorial-planning", "assigned")
    stored = await runtime.store.read(subjects.task_filter(incident_id, "notification-support"))
    completed_at = stored[-1].event.at
    assert released.acknowledge_by == completed_at + timedelta(days=1)
    assert released.due_by == completed_at + timedelta(days=2)


async def test_phase_windows_count_from_the_phase_start(caller: Caller) -> None:
    incident_id = await log(caller, {})
    tasks = await wait_for_tasks(caller, incident_id, 4)
    circle = tasks["recovery-circle"]
    outreach_ack = tasks["notification-support"].acknowledge_by
    assert circle.acknowledge_by is not None and outreach_ack is not None
    logged_at = outreach_ack - timedelta(hours=1)
    assert circle.acknowledge_by == logged_at + timedelta(days=3) + timedelta(days=1)


async def test_exercise_scales_every_window_and_follow_ups_come_due(
    caller: Caller, runtime: Runtime
) -> None:
    scale = 2 / DAY  # a day passes in two seconds
    incident_id = await log(caller, {"person_deceased": "true"}, time_scale=scale)
    tasks = await wait_for_tasks(caller, incident_id, 4)
    support = tasks["notification-support"]
    assert support.exercise
    assert support.acknowledge_by is not None and support.due_by is not None
    assert support.due_by - support.acknowledge_by == timedelta(hours=5) * scale

    found = await eventually(lambda: _follow_ups(caller, incident_id), timeout=20)
    first = found["notification-support-follow-up-1"]
    # The advocate who had the task when the follow-up came due keeps the relationship. (At
    # this scale acknowledgements are overdue in a tenth of a second, and escalation hands
    # both tasks on: what counts is whom each was given to at the time.)
    created = await runtime.store.last_of(
        subjects.task_event(incident_id, first.key, "created"), TaskCreated
    )
    assert created is not None
    parent = await runtime.store.read(subjects.task_filter(incident_id, "notification-support"))
    holders = [p.event.task.assignee for p in parent if isinstance(p.event, TaskEvent)]
    before = [p for p in parent if p.seq < created.seq]
    assert created.event.task.assignee == holders[len(before) - 1]
    assert first.follow_up_of == "notification-support"
    assert not first.required and first.exercise
    assert first.title == "Family check-in (follow-up 1 of 2)"
    await close(caller, incident_id)


async def _follow_ups(caller: Caller, incident_id: str) -> dict[str, TaskSnapshot] | None:
    tasks = await tasks_of(caller, incident_id)
    found = {k: t for k, t in tasks.items() if t.follow_up_of}
    return found if len(found) == 2 else None


async def test_a_running_response_keeps_the_version_it_pinned(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log(caller, {})
    await wait_for_tasks(caller, incident_id, 4)
    original = runtime.library["drill-rich"]
    path = FIXTURES / "playbooks" / "drill-rich.yaml"
    edited_source = path.read_bytes().replace(b"Recovery circle", b"Renamed circle")
    edited = parse_playbook(edited_source, str(path))
    runtime.library["drill-rich"] = edited  # the YAML changed and the engine reloaded it
    try:
        tasks = await tasks_of(caller, incident_id)
        assert tasks["recovery-circle"].title == "Recovery circle"
        reply = await caller.ok(
            subjects.QRY_PLAYBOOK_GET,
            GetPlaybook(playbook_id="drill-rich", version=original.version),
        )
        assert isinstance(reply.data, dict)
        assert reply.data["source"] == original.source
        assert (
            PinnedPlaybook.model_validate(
                {"playbook": reply.data["playbook"], "source": reply.data["source"], "path": "x"}
            ).version
            == original.version
        )
    finally:
        runtime.library["drill-rich"] = original
