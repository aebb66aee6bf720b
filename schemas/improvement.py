"""The improvement plan of an after-action review: findings (strengths and areas for
improvement, tied to a role family or a phase) and corrective actions (tasks with an owner and
a due date), with the commands and queries that record and read them (served by the engine and
the timeline)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from schemas.base import Contract, IncidentId, PersonId, Slug, TaskId, UtcDateTime
from schemas.commands import Command, Query
from schemas.enums import FindingKind, RoleFamily, TaskStatus
from schemas.limits import FINDING_MAX, TITLE_MAX
from schemas.text import printable_line

# The phase every corrective action is in: it comes after the response, whatever the playbook.
IMPROVEMENT_PHASE = "improvement-plan"

FindingText = Annotated[
    str, Field(min_length=1, max_length=FINDING_MAX), AfterValidator(printable_line)
]
ActionText = Annotated[
    str, Field(min_length=1, max_length=TITLE_MAX), AfterValidator(printable_line)
]


class AddFinding(Command):
    """Record a finding of the incident's review, about a role family or a phase (or neither:
    the response as a whole)."""

    incident_id: IncidentId
    kind: FindingKind
    text: FindingText
    family: RoleFamily | None = None
    phase: Slug | None = None

    @model_validator(mode="after")
    def _family_or_phase(self) -> Self:
        if self.family is not None and self.phase is not None:
            raise ValueError("a finding is about a role family or a phase, not both")
        return self


class AddCorrectiveAction(Command):
    """Give a corrective action to its owner, due by `due_by` (or by the end of `due_on` in
    the roster's time zone): a task like any other."""

    incident_id: IncidentId
    text: ActionText
    owner: PersonId
    due_by: UtcDateTime | None = None
    due_on: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="A date, YYYY-MM-DD"
    )

    @model_validator(mode="after")
    def _one_due(self) -> Self:
        if (self.due_by is None) == (self.due_on is None):
            raise ValueError("a corrective action needs its due date or time, exactly one")
        return self


class GetFindings(Query):
    incident_id: IncidentId


class GetCorrectiveActions(Query):
    incident_id: IncidentId


class Finding(Contract):
    finding_id: Slug
    incident_id: IncidentId
    kind: FindingKind
    text: str
    family: RoleFamily | None = None
    phase: Slug | None = None
    recorded_by: str
    recorded_at: UtcDateTime


class CorrectiveAction(Contract):
    """A corrective action as it stands: who owns it now, when it is due, where it is."""

    task_id: TaskId
    incident_id: IncidentId
    text: str
    owner: PersonId | None = Field(description="Who holds it now (None: nobody, after a decline)")
    given_to: PersonId = Field(description="Who it was first given to")
    given_by: str
    given_at: UtcDateTime
    due_by: UtcDateTime | None
    status: TaskStatus
    escalations: int = Field(default=0, ge=0, description="Escalation steps run so far")
    completed_at: UtcDateTime | None = None
    note: str | None = Field(default=None, description="The completion note (command tier)")


class ImprovementPlan(Contract):
    incident_id: IncidentId
    findings: tuple[Finding, ...] = ()
    actions: tuple[CorrectiveAction, ...] = ()


def _token(*parts: str) -> str:
    """Eight lowercase characters derived from `parts`: a retried request finds the same."""
    digest = int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:5], "big")
    return "".join(_CROCKFORD[(digest >> shift) & 31] for shift in range(35, -1, -5))


_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def finding_id_for(incident_id: str, request_id: str) -> str:
    return f"f-{_token(incident_id, 'finding', request_id)}"


def action_key_for(incident_id: str, request_id: str) -> str:
    """The task key of the corrective action a request gives."""
    return f"action-{_token(incident_id, 'action', request_id)}"
