"""Playbook runs, as pure functions: choosing a playbook, pinning it, creating its tasks,
and deciding what a completed task unlocks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Literal

from schemas.base import task_id_for
from schemas.enums import Role, TaskStatus
from schemas.events import IncidentLogged, PlaybookTriggered, ResponseCompleted, TaskCreated
from schemas.playbook import PinnedPlaybook
from schemas.tasks import TaskPlan, TaskSnapshot


def matching_playbooks(
    library: Iterable[PinnedPlaybook], incident: IncidentLogged
) -> list[PinnedPlaybook]:
    found = [p for p in library if p.playbook.matches(incident.incident_type, incident.severity)]
    return sorted(found, key=lambda p: p.playbook.id)


def automatic_playbook(
    library: Iterable[PinnedPlaybook], incident: IncidentLogged
) -> PinnedPlaybook | None:
    if not incident.auto_trigger:
        return None
    found = [p for p in matching_playbooks(library, incident) if p.playbook.triggers.auto]
    return found[0] if found else None


def trigger(
    pinned: PinnedPlaybook,
    incident: IncidentLogged,
    *,
    how: Literal["automatic", "manual"],
    actor: str,
    now: datetime,
) -> PlaybookTriggered:
    return PlaybookTriggered(
        event_id=f"{incident.incident_id}.playbook.triggered",
        incident_id=incident.incident_id,
        actor=actor,
        at=now,
        playbook_id=pinned.playbook.id,
        playbook_title=pinned.playbook.title,
        version=pinned.version,
        trigger=how,
        incident_logged_at=incident.at,
        tasks=pinned.playbook.plan(),
    )


def rotation_offset(incident_id: str, role: Role) -> int:
    digest = hashlib.sha256(f"{incident_id}/{role}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def assignees(
    run: PlaybookTriggered, holders: Mapping[Role, Sequence[str]]
) -> dict[str, str | None]:
    """Who gets each task: a rotation through the role's holders, seeded by the incident, so the
    same run always yields the same assignments (a replayed fan-out repeats itself exactly)."""
    chosen: dict[str, str | None] = {}
    seen_per_role: dict[Role, int] = {}
    for task in run.tasks:
        people = holders.get(task.role, ())
        ordinal = seen_per_role.get(task.role, 0)
        seen_per_role[task.role] = ordinal + 1
        if people:
            chosen[task.key] = people[
                (rotation_offset(run.incident_id, task.role) + ordinal) % len(people)
            ]
        else:
            chosen[task.key] = None
    return chosen


def instantiate(
    run: PlaybookTriggered, holders: Mapping[Role, Sequence[str]], now: datetime
) -> list[TaskCreated]:
    chosen = assignees(run, holders)
    return [_created(run, task, chosen[task.key], now) for task in run.tasks]


def _created(
    run: PlaybookTriggered, plan: TaskPlan, assignee: str | None, now: datetime
) -> TaskCreated:
    if plan.depends_on:
        status = TaskStatus.WAITING
    else:
        status = TaskStatus.ASSIGNED if assignee else TaskStatus.UNASSIGNED
    task_id = task_id_for(run.incident_id, plan.key)
    snapshot = TaskSnapshot(
        task_id=task_id,
        incident_id=run.incident_id,
        key=plan.key,
        title=plan.title,
        role=plan.role,
        phase=plan.phase,
        instructions=plan.instructions,
        tier=plan.tier,
        required=plan.required,
        depends_on=plan.depends_on,
        status=status,
        assignee=assignee,
        acknowledge_by=run.incident_logged_at + plan.acknowledge_within,
        due_by=run.incident_logged_at + plan.due_within,
    )
    return TaskCreated(
        event_id=f"{task_id}.created",
        incident_id=run.incident_id,
        actor="engine",
        at=now,
        task=snapshot,
    )


def dependents(run: PlaybookTriggered, completed_key: str) -> list[TaskPlan]:
    return [task for task in run.tasks if completed_key in task.depends_on]


def required_keys(run: PlaybookTriggered) -> list[str]:
    return [task.key for task in run.tasks if task.required]


def response_completed(run: PlaybookTriggered, now: datetime) -> ResponseCompleted:
    return ResponseCompleted(
        event_id=f"{run.incident_id}.response.completed",
        incident_id=run.incident_id,
        actor="engine",
        at=now,
        playbook_id=run.playbook_id,
        completed_tasks=len(required_keys(run)),
    )
