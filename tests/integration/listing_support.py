"""Writing events straight to the stream for the list tests: incidents logged at chosen times,
tasks held by chosen people, without a playbook run in between."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext

from schemas import subjects
from schemas.base import incident_id_for, task_id_for
from schemas.commands import ListQuery
from schemas.enums import Severity, TaskStatus, Tier
from schemas.events import AnyEvent, IncidentLogged, TaskAssigned, TaskCreated
from schemas.replies import RawPage as Page
from schemas.tasks import TaskSnapshot
from tests.integration.conftest import Caller

BASE = datetime(2001, 1, 1, tzinfo=UTC)


def a_person() -> str:
    return f"pager-{uuid.uuid4().hex[:10]}"


async def append(js: JetStreamContext, subject: str, event: AnyEvent) -> None:
    await js.publish(
        subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.event_id}
    )


async def an_incident(js: JetStreamContext, at: datetime) -> str:
    incident_id = incident_id_for(uuid.uuid4().hex)
    event = IncidentLogged(
        event_id=f"{incident_id}.logged",
        incident_id=incident_id,
        actor="renee.alvarez",
        at=at,
        incident_type="drill-manual",
        title="Paging test",
        severity=Severity.LOW,
        auto_trigger=False,
    )
    await append(js, subjects.incident_logged(incident_id), event)
    return incident_id


def a_task(incident_id: str, key: str, person: str, deadline: int) -> TaskSnapshot:
    return TaskSnapshot(
        task_id=task_id_for(incident_id, key),
        incident_id=incident_id,
        key=key,
        title="Paging task",
        role="community_liaison",
        tier=Tier.COMMAND,
        required=True,
        status=TaskStatus.ASSIGNED,
        assignee=person,
        acknowledge_by=BASE + timedelta(hours=deadline),
        due_by=BASE + timedelta(days=1),
    )


async def create(js: JetStreamContext, task: TaskSnapshot) -> None:
    event = TaskCreated(
        event_id=f"{task.task_id}.created",
        incident_id=task.incident_id,
        actor="test",
        at=BASE,
        task=task,
    )
    await append(js, subjects.task_event(task.incident_id, task.key, "created"), event)


async def hand_over(js: JetStreamContext, task: TaskSnapshot, to: str) -> TaskSnapshot:
    moved = task.model_copy(update={"assignee": to})
    event = TaskAssigned(
        event_id=f"{task.task_id}.assigned.{uuid.uuid4().hex}",
        incident_id=task.incident_id,
        actor="test",
        at=BASE,
        task=moved,
        previous_assignee=task.assignee,
    )
    await append(js, subjects.task_event(task.incident_id, task.key, "assigned"), event)
    return moved


async def page_of(caller: Caller, subject: str, query: ListQuery) -> Page:
    reply = await caller.ok(subject, query)
    return Page.model_validate(reply.data)


def ids(items: list[dict[str, Any]], field: str) -> list[str]:
    return [str(item[field]) for item in items]
