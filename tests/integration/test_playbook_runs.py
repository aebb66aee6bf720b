"""Playbook runs on a real nats-server: fan-out, dependencies, completion, triggers."""

from __future__ import annotations

import pytest

from schemas import subjects
from schemas.commands import ErrorCode, GetIncident, TaskVerb
from schemas.enums import IncidentStatus, Severity, TaskStatus
from schemas.views import IncidentSummary
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.helpers import (
    act,
    log_incident,
    tasks_of,
    trigger,
    wait_for_status,
    wait_for_tasks,
)
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_officer_involved_shooting_fans_out_to_all_three_role_families(
    caller: Caller, runtime: Runtime
) -> None:
    incident_id = await log_incident(caller, "officer-involved-shooting")
    expected = runtime.library["officer-involved-shooting"].playbook.tasks
    tasks = await wait_for_tasks(caller, incident_id, len(expected))

    assert set(tasks) == {t.key for t in expected}
    roles = {t.role for t in tasks.values()}
    assert {"community_liaison", "victim_advocate", "peer_support"} <= roles
    conditional = {t.key for t in expected if t.when}
    for task in tasks.values():
        if task.key in conditional:  # no attributes were given, so conditions do not hold
            assert task.status is TaskStatus.SKIPPED
            continue
        assert task.assignee in runtime.roster.holders(task.role)
        assert task.status in (TaskStatus.WAITING, TaskStatus.ASSIGNED)
        assert (task.status is TaskStatus.WAITING) == bool(task.depends_on) or any(
            tasks[d].status is TaskStatus.SKIPPED for d in task.depends_on
        )


async def test_deadlines_are_relative_to_the_incident(caller: Caller) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    tasks = await wait_for_tasks(caller, incident_id, 5)
    defusing = tasks["defusing"]
    assert defusing.acknowledge_by is not None and defusing.due_by is not None
    assert (defusing.acknowledge_by - defusing.due_by).total_seconds() == -3.5 * 3600


async def test_dependent_task_is_released_only_when_every_prerequisite_completes(
    caller: Caller,
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    tasks = await wait_for_tasks(caller, incident_id, 5)

    await act(caller, tasks["defusing"], TaskVerb.COMPLETE, note="done")
    debriefing = await wait_for_status(caller, incident_id, "debriefing", "assigned")
    await act(caller, debriefing, TaskVerb.COMPLETE)
    # The review also waits on family contact, which is still open.
    assert (await tasks_of(caller, incident_id))["review"].status is TaskStatus.WAITING

    await act(caller, tasks["family-contact"], TaskVerb.COMPLETE)
    await wait_for_status(caller, incident_id, "review", "assigned")


async def test_response_completes_when_every_required_task_is_complete(caller: Caller) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    tasks = await wait_for_tasks(caller, incident_id, 5)
    for key in ("defusing", "family-contact"):
        await act(caller, tasks[key], TaskVerb.COMPLETE)
    for key in ("debriefing", "review"):
        released = await wait_for_status(caller, incident_id, key, "assigned")
        await act(caller, released, TaskVerb.COMPLETE)

    async def completed() -> IncidentSummary | None:
        reply = await caller.ok(subjects.QRY_INCIDENT_GET, GetIncident(incident_id=incident_id))
        summary = IncidentSummary.model_validate(reply.data)
        return summary if summary.status is IncidentStatus.RESPONSE_COMPLETE else None

    summary = await eventually(completed)
    # The optional listening session was never done, and did not hold the response open.
    assert (await tasks_of(caller, incident_id))["listening-session"].status is TaskStatus.ASSIGNED
    assert summary.response_completed_at is not None


async def test_playbook_without_automatic_trigger_waits_to_be_triggered(caller: Caller) -> None:
    incident_id = await log_incident(caller, "drill-manual")
    reply = await trigger(caller, incident_id, "drill-manual")
    assert reply.ok and reply.changed
    tasks = await wait_for_tasks(caller, incident_id, 1)
    assert tasks["briefing"].status is TaskStatus.ASSIGNED


async def test_second_playbook_for_an_incident_is_refused(caller: Caller) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    await wait_for_tasks(caller, incident_id, 5)
    reply = await trigger(caller, incident_id, "drill-manual")
    assert not reply.ok and reply.error is not None
    assert reply.error.code is ErrorCode.CONFLICT
    assert "already runs playbook drill-chain" in reply.error.message


async def test_manual_flag_and_low_severity_start_nothing(caller: Caller) -> None:
    manual = await log_incident(caller, "drill-chain", auto_trigger=False)
    too_minor = await log_incident(caller, "drill-chain", severity=Severity.LOW)
    for incident_id in (manual, too_minor):
        reply = await caller.ok(subjects.QRY_INCIDENT_GET, GetIncident(incident_id=incident_id))
        assert IncidentSummary.model_validate(reply.data).playbook_id is None
    assert await tasks_of(caller, manual) == {}


async def test_trigger_names_unknown_incident_and_playbook(caller: Caller) -> None:
    unknown_incident = await trigger(caller, "INC-ZZZZZZZZ", "drill-manual")
    assert unknown_incident.error is not None
    assert unknown_incident.error.code is ErrorCode.NOT_FOUND
    incident_id = await log_incident(caller, "drill-manual")
    unknown_playbook = await trigger(caller, incident_id, "no-such-playbook")
    assert unknown_playbook.error is not None
    assert "no playbook no-such-playbook" in unknown_playbook.error.message
