"""Steps the integration tests share: log an incident, wait for its tasks, act on them."""

from __future__ import annotations

from schemas import subjects
from schemas.commands import (
    ActOnTask,
    CloseIncident,
    ListTasks,
    LogIncident,
    Reply,
    TaskVerb,
    TriggerPlaybook,
)
from schemas.enums import Severity
from schemas.tasks import TaskSnapshot
from services.core.confidential import open_view, seal_command
from tests.integration.conftest import Caller
from tests.support import eventually, example_roster, keyring, request_id


async def log_incident(
    caller: Caller,
    incident_type: str,
    *,
    auto_trigger: bool = True,
    severity: Severity = Severity.HIGH,
) -> str:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_type=incident_type,
            title="Test incident",
            severity=severity,
            auto_trigger=auto_trigger,
        ),
    )
    assert isinstance(reply.data, dict)
    incident_id: str = reply.data["incident"]["incident_id"]
    return incident_id


async def trigger(caller: Caller, incident_id: str, playbook_id: str) -> Reply:
    """Trigger a playbook by hand; the reply, whether it succeeded or not."""
    return await caller(
        subjects.CMD_PLAYBOOK_TRIGGER,
        TriggerPlaybook(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_id=incident_id,
            playbook_id=playbook_id,
        ),
    )


async def tasks_of(caller: Caller, incident_id: str) -> dict[str, TaskSnapshot]:
    reply = await caller.ok(subjects.QRY_TASK_LIST, ListTasks(incident_id=incident_id, limit=500))
    assert isinstance(reply.data, dict)
    found = [TaskSnapshot.model_validate(t) for t in reply.data["items"]]
    return {t.key: t for t in found}


async def wait_for_tasks(caller: Caller, incident_id: str, count: int) -> dict[str, TaskSnapshot]:
    async def probe() -> dict[str, TaskSnapshot] | None:
        found = await tasks_of(caller, incident_id)
        return found if len(found) == count else None

    return await eventually(probe)


async def wait_for_status(caller: Caller, incident_id: str, key: str, status: str) -> TaskSnapshot:
    async def probe() -> TaskSnapshot | None:
        task = (await tasks_of(caller, incident_id)).get(key)
        return task if task is not None and task.status == status else None

    return await eventually(probe)


async def act(
    caller: Caller,
    task: TaskSnapshot,
    verb: TaskVerb,
    actor: str | None = None,
    *,
    note: str | None = None,
    reason: str | None = None,
    request: str | None = None,
) -> tuple[bool, TaskSnapshot]:
    """Act on `task` as a person at the edge would: restricted text sealed on the way in, and
    opened in the task that comes back."""
    command = ActOnTask(
        request_id=request or request_id(),
        actor=actor or task.assignee or "nobody",
        verb=verb,
        task_id=task.task_id,
        note=note,
        reason=reason,
    )
    sent = seal_command(keyring(), example_roster(), command, task_tier=task.tier)
    reply = await caller.ok(subjects.CMD_TASK_ACT, sent)
    return reply.changed, open_view(keyring(), TaskSnapshot.model_validate(reply.data))


async def close(caller: Caller, incident_id: str) -> None:
    """End an exercise whose time scale would keep its deadlines firing into later tests."""
    await caller.ok(
        subjects.CMD_INCIDENT_CLOSE,
        CloseIncident(
            request_id=request_id(),
            actor="renee.alvarez",
            incident_id=incident_id,
            reason="Test over",
        ),
    )
