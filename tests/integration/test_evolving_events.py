"""Events written by a newer version, published as raw JSON to the real stream: fields this
version does not know, and event types it does not know."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.base import incident_id_for, utc_now
from schemas.commands import ActOnTask, ErrorCode, GetTimeline, ListIncidents, TaskVerb
from schemas.enums import Severity
from schemas.events import IncidentLogged
from schemas.tasks import TaskSnapshot
from schemas.views import Timeline
from services.core.deadletters import DeadLetterStore
from tests.integration.conftest import Caller
from tests.integration.helpers import act, log_incident, tasks_of, wait_for_status, wait_for_tasks
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration

SECRET = "BODY-TEXT-NEVER-SHOWN"


async def publish_raw(nc: Client, subject: str, raw: dict[str, Any]) -> int:
    ack = await nc.jetstream().publish(
        subject, json.dumps(raw).encode(), stream=subjects.EVENTS_STREAM
    )
    return ack.seq


async def dead_lettered(nc: Client, consumer: str, seq: int) -> None:
    """The message was refused — kept as a dead letter — not acknowledged and skipped."""

    async def found() -> bool:
        letters = await DeadLetterStore(nc.jetstream()).dead()
        return any(
            letter.record.consumer == consumer and letter.record.stream_seq == seq
            for letter in letters
        )

    await eventually(found, timeout=15)


def task_event_from_newer_version(task: TaskSnapshot, event_type: str) -> dict[str, Any]:
    return {
        "schema_version": 2,
        "type": event_type,
        "event_id": f"{task.task_id}.{event_type}.{request_id()}",
        "incident_id": task.incident_id,
        "actor": "engine",
        "at": utc_now().isoformat(),
        "task": {**json.loads(task.model_dump_json()), "escalation_level": 2},
        "escalated_to": SECRET,
    }


async def test_a_newer_versions_events_are_read_and_the_unknown_ones_marked(
    caller: Caller, nc: Client
) -> None:
    incident_id = incident_id_for(request_id())
    logged = IncidentLogged(
        event_id=f"{incident_id}.logged",
        incident_id=incident_id,
        actor="renee.alvarez",
        at=utc_now(),
        incident_type="drill-chain",
        title="Logged by a newer version",
        severity=Severity.HIGH,
    )
    newer_logged = {
        **json.loads(logged.model_dump_json()),
        "schema_version": 2,
        "priority_hint": "elevated",
        "source": {"channel": "cad", "note": SECRET},
    }
    await publish_raw(nc, subjects.incident_logged(incident_id), newer_logged)

    # The engine's reaction read it (the playbook ran) and the projections followed.
    tasks = await wait_for_tasks(caller, incident_id, 5)
    await eventually(lambda: _listed_with_playbook(caller, incident_id))

    escalated = tasks["family-contact"].model_copy(
        update={"due_by": (tasks["family-contact"].due_by or utc_now()) + timedelta(days=1)}
    )
    escalated_seq = await publish_raw(
        nc,
        subjects.task_event(incident_id, "family-contact", "reassessed"),
        task_event_from_newer_version(escalated, "task.reassessed"),
    )
    reopened = {**newer_logged, "type": "incident.reopened", "reason": SECRET}
    reopened_seq = await publish_raw(nc, f"pw.evt.{incident_id}.incident.reopened", reopened)

    # An unknown event type goes to the dead letters, never acknowledged and skipped...
    await dead_lettered(nc, "projector", reopened_seq)
    # ...and holds up nothing: a known event after it is projected.
    await act(caller, tasks["listening-session"], TaskVerb.ACKNOWLEDGE)
    await wait_for_status(caller, incident_id, "listening-session", "acknowledged")
    # A task event of a kind this version does not know still carries the whole task.
    listed = await eventually(lambda: _due_by(caller, incident_id, escalated.due_by))
    assert listed.task_id == escalated.task_id

    reply = await caller.ok(subjects.QRY_TIMELINE, GetTimeline(incident_id=incident_id))
    timeline = Timeline.model_validate(reply.data)
    unrecognised = {e.seq: e.type for e in timeline.entries if not e.recognised}
    assert unrecognised == {escalated_seq: "task.reassessed", reopened_seq: "incident.reopened"}
    assert [e.type for e in timeline.entries][:2] == ["incident.logged", "playbook.triggered"]
    assert sum(e.type == "task.created" for e in timeline.entries) == 5
    assert SECRET not in reply.model_dump_json()

    # The engine will not decide on a task whose last event it cannot read.
    refusal = await caller(
        subjects.CMD_TASK_ACT,
        ActOnTask(
            request_id=request_id(),
            actor=escalated.assignee or "nobody",
            verb=TaskVerb.ACKNOWLEDGE,
            task_id=escalated.task_id,
        ),
    )
    assert refusal.error is not None and refusal.error.code is ErrorCode.CONFLICT


async def _listed_with_playbook(caller: Caller, incident_id: str) -> bool:
    reply = await caller.ok(subjects.QRY_INCIDENT_LIST, ListIncidents(limit=500))
    assert isinstance(reply.data, dict)
    return any(
        i["incident_id"] == incident_id and i["playbook_id"] == "drill-chain"
        for i in reply.data["items"]
    )


async def _due_by(caller: Caller, incident_id: str, due_by: object) -> TaskSnapshot | None:
    task = (await tasks_of(caller, incident_id))["family-contact"]
    return task if task.due_by == due_by else None


async def test_a_reaction_refuses_an_event_it_cannot_read(caller: Caller, nc: Client) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["listening-session"]
    unreadable = task_event_from_newer_version(task, "task.completed")
    unreadable["task"]["status"] = "completed_with_follow_up"  # a status this version lacks
    seq = await publish_raw(
        nc, subjects.task_event(incident_id, "listening-session", "completed"), unreadable
    )
    await dead_lettered(nc, "engine-on-task-completed", seq)
    # The incident's other events are unaffected.
    await asyncio.sleep(0)
    assert len(await tasks_of(caller, incident_id)) == 5
