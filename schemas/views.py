"""Read models: what queries return and what the projections store."""

from __future__ import annotations

from pydantic import Field

from schemas.base import Contract, IncidentId, PersonId, RoleId, Slug, UtcDateTime
from schemas.enums import IncidentStatus, Severity, Tier
from schemas.events import (
    AnyEvent,
    IncidentClosed,
    IncidentLogged,
    PlaybookCancelled,
    PlaybookTriggered,
    ResponseCompleted,
)
from schemas.sealed import Sealed
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
    playbook_run: int = Field(default=0, description="The latest playbook run (0: none yet)")
    playbook_cancelled_at: UtcDateTime | None = None
    playbook_cancelled_by: str | None = None
    playbook_cancel_reason: str | None = None
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
        """The summary once `event` has happened to the incident. Events may be folded in any
        order: a run's events each set fields of their own, and an earlier run's are ignored
        once a later one is seen."""
        if isinstance(event, IncidentClosed):
            return self._with_status(
                closed_at=event.at, closed_by=event.actor, close_reason=event.reason
            )
        if not isinstance(event, PlaybookTriggered | PlaybookCancelled | ResponseCompleted):
            return self
        # Summaries stored before runs were numbered have a playbook and run 0: that is run 1.
        current = self.playbook_run or (1 if self.playbook_id else 0)
        if event.run < current:
            return self
        summary = (
            self.model_copy(update={"playbook_run": current})
            if event.run == current
            else self._new_run(event.run)
        )
        if isinstance(event, PlaybookTriggered):
            return summary._with_status(
                playbook_id=event.playbook_id,
                playbook_version=event.version,
                task_count=len(event.tasks),
            )
        if isinstance(event, PlaybookCancelled):
            return summary._with_status(
                playbook_id=event.playbook_id,
                playbook_cancelled_at=event.at,
                playbook_cancelled_by=event.actor,
                playbook_cancel_reason=event.reason,
            )
        return summary._with_status(playbook_id=event.playbook_id, response_completed_at=event.at)

    def _new_run(self, run: int) -> IncidentSummary:
        return self.model_copy(
            update={
                "playbook_run": run,
                "playbook_id": None,
                "playbook_version": None,
                "task_count": 0,
                "response_completed_at": None,
                "playbook_cancelled_at": None,
                "playbook_cancelled_by": None,
                "playbook_cancel_reason": None,
            }
        )

    def _with_status(self, **update: object) -> IncidentSummary:
        changed = self.model_copy(update=update)
        if changed.closed_at is not None:
            status = IncidentStatus.CLOSED
        elif changed.response_completed_at is not None and changed.playbook_cancelled_at is None:
            status = IncidentStatus.RESPONSE_COMPLETE
        else:
            status = IncidentStatus.ACTIVE
        return changed.model_copy(update={"status": status})


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
    note_sealed: Sealed | None = Field(
        default=None,
        description="A restricted note sealed for its author's scope, given only to readers in "
        "that scope, for whoever holds the scope's key to open",
    )
    note_by: str | None = Field(default=None, description="Who wrote the note")
    role: RoleId | None = Field(
        default=None, description="The role of the entry's task (none for incident-wide entries)"
    )
    phase: Slug | None = Field(default=None, description="The phase of the entry's task, if any")
    assignee: PersonId | None = Field(
        default=None, description="Who held the entry's task once it had happened"
    )
    redacted: bool = Field(
        default=False, description="The note is withheld from this reader (its marker shown)"
    )
    recognised: bool = Field(
        default=True,
        description="False for an event this version cannot read: only its type, time and seq",
    )


class Timeline(Contract):
    incident: IncidentSummary
    entries: tuple[TimelineEntry, ...]
    # SHA-256 over every stored event of the incident (services.core.record_seal), whatever the
    # reader is shown: the record this was built from, as `pathways timeline verify` prints it.
    record_digest: str | None = None
