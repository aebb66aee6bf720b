from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from schemas.base import Contract, IncidentId, PersonId, Slug, TaskId, UtcDateTime
from schemas.enums import Role, TaskStatus, Tier


class TaskPlan(Contract):
    """One task of a pinned playbook, as the engine will create it for an incident."""

    key: Slug
    title: str
    role: Role
    phase: Slug | None = None
    instructions: str = ""
    tier: Tier = Tier.COMMAND
    required: bool = True
    depends_on: tuple[Slug, ...] = ()
    acknowledge_within: timedelta
    due_within: timedelta


class TaskSnapshot(Contract):
    """The whole state of a task after an event. Every task event carries one, so the last event
    on a task's subject is all a reader needs to know where the task stands."""

    task_id: TaskId
    incident_id: IncidentId
    key: Slug
    title: str
    role: Role
    phase: Slug | None = None
    instructions: str = ""
    tier: Tier
    required: bool
    depends_on: tuple[Slug, ...] = ()
    status: TaskStatus
    assignee: PersonId | None = None
    declined_by: tuple[PersonId, ...] = ()
    acknowledge_by: UtcDateTime
    due_by: UtcDateTime
    note: str | None = Field(default=None, description="Completion note, confidential at `tier`.")
