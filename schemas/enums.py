from __future__ import annotations

from enum import StrEnum


class RoleFamily(StrEnum):
    """The five kinds of work a role belongs to. Roles are the agency's own (declared in its
    roster); families are fixed, so reports can compare responses across agencies and rosters.
    The first three are the components of collective healing."""

    COMMUNITY_LIAISON = "community_liaison"
    VICTIM_ADVOCATE = "victim_advocate"
    PEER_SUPPORT = "peer_support"
    COMMAND = "command"
    PUBLIC_INFORMATION = "public_information"


class FindingKind(StrEnum):
    """What an after-action review finding is: a strength, or an area for improvement."""

    STRENGTH = "strength"
    IMPROVEMENT = "improvement"


class Tier(StrEnum):
    """Confidentiality of a task and its notes."""

    PUBLIC = "public"
    COMMAND = "command"
    RESTRICTED = "restricted"


class Severity(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class TaskStatus(StrEnum):
    WAITING = "waiting"  # prerequisites are not complete yet
    UNASSIGNED = "unassigned"  # in the pool: nobody holding the role is available
    ASSIGNED = "assigned"  # with a person, not yet acknowledged
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SKIPPED = "skipped"  # its condition did not hold for this incident
    CANCELLED = "cancelled"  # the incident was closed before it was done


class IncidentStatus(StrEnum):
    ACTIVE = "active"
    RESPONSE_COMPLETE = "response_complete"
    CLOSED = "closed"
