from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from schemas.base import Contract, IncidentId, PersonId, RoleId, Slug, TaskId, UtcDateTime
from schemas.enums import TaskStatus, Tier
from schemas.escalation import EscalationChain
from schemas.sealed import Sealed

Duration = timedelta


class Anchor(StrEnum):
    """What a task's windows count from."""

    INCIDENT = "incident"  # when the incident was logged
    PHASE = "phase"  # when the task's phase starts (the incident plus the phase offset)
    PREREQUISITES = "prerequisites"  # when the last of its prerequisites completed


class AssigneeRule(Contract):
    """Who may take a task, beyond holding its role."""

    language: str | None = Field(default=None, description="A language the person must speak")
    language_from: str | None = Field(
        default=None, description="An incident attribute naming the language, e.g. family_language"
    )
    organisation: str | None = Field(
        default=None, description="Only members of this organisation (an id the roster declares)"
    )
    partner: bool | None = Field(default=None, description="true: partners only; false: staff only")
    not_involved: bool = Field(
        default=True, description="Never someone named as involved in the incident"
    )


class FollowUp(Contract):
    """Check-ins created as their own tasks when they come due."""

    title: str = Field(min_length=1, max_length=200)
    after: tuple[Duration, ...] = Field(
        min_length=1,
        max_length=99,
        description="Offsets from the incident, e.g. [P7D, P30D, P90D, P365D]",
    )
    acknowledge_within: Duration = Field(description="From when the follow-up comes due")
    due_within: Duration = Field(description="From when the follow-up comes due")
    instructions: str = ""


class TaskTemplate(Contract):
    key: Slug
    title: str = Field(min_length=1, max_length=200)
    role: RoleId = Field(description="A role the roster declares, e.g. victim_advocate")
    phase: Slug | None = None
    instructions: str = Field(default="", description="Markdown")
    tier: Tier = Tier.COMMAND
    required: bool = True
    depends_on: tuple[Slug, ...] = ()
    when: str | None = Field(default=None, description="Condition on incident attributes")
    relative_to: Anchor = Anchor.INCIDENT
    acknowledge_within: Duration = Field(description="ISO 8601 duration, from `relative_to`")
    due_within: Duration = Field(description="ISO 8601 duration, from `relative_to`")
    assignee: AssigneeRule = AssigneeRule()
    follow_ups: FollowUp | None = None
    escalation: EscalationChain | None = Field(
        default=None, description="Instead of the role's chain from the roster"
    )


class TaskNote(Contract):
    """A note on a task, as its own entry: who wrote it, when, and who may read it. A restricted
    note is sealed for its author's team (`sealed`); the others are plain (`text`)."""

    author: PersonId
    at: UtcDateTime
    tier: Tier
    text: str | None = Field(
        default=None, description="Plain text: a public or command-tier note (or an older one)"
    )
    sealed: Sealed | None = Field(
        default=None, description="A restricted note, sealed for its author's scope"
    )

    @model_validator(mode="after")
    def _text_or_sealed(self) -> Self:
        if (self.text is None) == (self.sealed is None):
            raise ValueError("a note holds either its text or its sealed text, exactly one")
        only_restricted_sealed(self.tier, self.sealed)
        return self


def only_restricted_sealed(tier: Tier, sealed: Sealed | None) -> None:
    if sealed is not None and tier is not Tier.RESTRICTED:
        raise ValueError(f"only restricted text is sealed; this is {tier.value}-tier text")


class TaskSnapshot(Contract):
    """The whole state of a task after an event. Every task event carries one, so the last event
    on a task's subject is all a reader needs to know where the task stands."""

    task_id: TaskId
    incident_id: IncidentId
    key: Slug
    run: int = Field(default=1, ge=1, description="The playbook run that created it")
    title: str
    role: RoleId
    phase: Slug | None = None
    instructions: str = ""
    tier: Tier
    required: bool
    depends_on: tuple[Slug, ...] = ()
    status: TaskStatus
    assignee: PersonId | None = None
    declined_by: tuple[PersonId, ...] = ()
    # None while a task's windows count from prerequisites that have not completed yet.
    acknowledge_by: UtcDateTime | None
    due_by: UtcDateTime | None
    note: str | None = Field(default=None, description="Completion note, confidential at `tier`.")
    note_sealed: Sealed | None = Field(
        default=None, description="The completion note of a restricted task, sealed"
    )
    notes: tuple[TaskNote, ...] = Field(default=(), description="Notes added along the way")
    follow_up_of: Slug | None = None
    corrective_action: bool = Field(
        default=False,
        description="A corrective action of the incident's improvement plan, not a playbook "
        "task: no run's cancelling or the incident's closing cancels it",
    )
    exercise: bool = False
    # The clock of the current assignment: each new assignee (after a decline, an escalation, a
    # hand-off) counts `assignment` up and gets the task's windows from when it reached them.
    assignment: int = Field(default=0, ge=0, description="How many times it was handed to someone")
    assigned_at: UtcDateTime | None = None
    acknowledge_window: timedelta | None = Field(default=None, description="Scaled, per assignee")
    due_window: timedelta | None = Field(default=None, description="Scaled, per assignee")
    escalation_from: int = Field(
        default=0, ge=0, description="Steps of the chain already run before this assignment"
    )
    escalated: tuple[str, ...] = Field(
        default=(), description="Reminders and escalation steps already run, e.g. ack.2.3"
    )

    @model_validator(mode="after")
    def _one_completion_note(self) -> Self:
        if self.note is not None and self.note_sealed is not None:
            raise ValueError("a completion note is either plain or sealed, not both")
        only_restricted_sealed(self.tier, self.note_sealed)
        return self
