"""Read models: what queries return and what the projections store."""

from __future__ import annotations

from pydantic import Field

from schemas.base import Contract, IncidentId, Slug, UtcDateTime
from schemas.enums import IncidentStatus, Severity, Tier
from schemas.events import (
    AnyEvent,
    IncidentClosed,
    IncidentLogged,
    PlaybookTriggered,
    ResponseCompleted,
)
from schemas.tasks import TaskSnapshot


class TaskRecord(Contract):
    seq: int = Field(description="Stream sequence of the event this snapshot comes from")
    task: TaskSnapshot


class IncidentSummary(Contract):
    incident_id: IncidentId
    incident_type: Slug
    title: str
    severity: Severity
    attributes: dict[str, str] = {}
    status: IncidentStatus = IncidentStatus.ACTIVE
    logged_at: UtcDateTime
    logged_by: str
    playbook_id: Slug | None = None
    playbook_version: str | None = None
    task_count: int = 0
    response_completed_at: UtcDateTime | None = None
    exercise: bool = False
    time_scale: float = 1.0
    involved: tuple[str, ...] = Field(
        default=(), description="Roster members involved in the incident: never assigned to it"
    )
    closed_at: UtcDateTime | None = None
    closed_by: str | None = None
    close_reason: str | None = None

    @classmethod
    def from_logged(cls, event: IncidentLogged) -> IncidentSummary:
        return cls(
            incident_id=event.incident_id,
            incident_type=event.incident_type,
            title=event.title,
            severity=event.severity,
            attributes=event.attributes,
            logged_at=event.at,
            logged_by=event.actor,
            exercise=event.exercise,
            time_scale=event.time_scale,
            involved=event.involved,
        )

    def after(self, event: AnyEvent) -> IncidentSummary:
        """The summary once `event` has happened to the incident."""
        if isinstance(event, PlaybookTriggered):
            return self.model_copy(
                update={
                    "playbook_id": event.playbook_id,
                    "playbook_version": event.version,
                    "task_count": len(event.tasks),
                }
            )
        if isinstance(event, IncidentClosed):
            return self.model_copy(
                update={
                    "status": IncidentStatus.CLOSED,
                    "closed_at": event.at,
                    "closed_by": event.actor,
                    "close_reason": event.reason,
                }
            )
        if isinstance(event, ResponseCompleted) and self.status is not IncidentStatus.CLOSED:
            return self.model_copy(
                update={
                    "status": IncidentStatus.RESPONSE_COMPLETE,
                    "response_completed_at": event.at,
                }
            )
        return self


class IncidentListItem(IncidentSummary):
    """An incident as `incident list` shows it: its summary, and how many of its tasks have
    nobody to take them (the incident needs command attention while any do)."""

    unassigned_tasks: int = Field(default=0, ge=0)


class PlaybookInfo(Contract):
    id: Slug
    title: str
    version: str
    path: str
    incident_types: tuple[str, ...]
    min_severity: Severity
    auto: bool
    task_count: int


class TimelineEntry(Contract):
    seq: int
    at: UtcDateTime
    type: str
    actor: str
    text: str
    task_id: str | None = None
    tier: Tier = Tier.PUBLIC
    note: str | None = None
    redacted: bool = False
    recognised: bool = Field(
        default=True,
        description="False for an event this version cannot read: only its type, time and seq",
    )


class Timeline(Contract):
    incident: IncidentSummary
    entries: tuple[TimelineEntry, ...]
