"""Events: immutable facts appended to the event stream, named in the past tense."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, Self, get_args

from pydantic import Field, TypeAdapter, model_validator

from schemas.base import Contract, IncidentId, PersonId, Slug, TaskId, UtcDateTime
from schemas.enums import FindingKind, RoleFamily, Severity
from schemas.escalation import EscalationAction
from schemas.notifications import Channel, ChannelKey, NoticeId, NoticeKind
from schemas.playbook import AttributeSpec, Phase
from schemas.sealed import Sealed
from schemas.tasks import TaskSnapshot, TaskTemplate, only_restricted_sealed

# The shape events are written in. Raise it when a field is renamed or its meaning changes, and
# register an upcaster (schemas/evolution.py) that brings the previous shape to this one.
# Sealed restricted text (`TaskNote.sealed`, `TaskSnapshot.note_sealed`,
# `TaskDeclined.reason_sealed`) only widened version 1: every event stored before reads as it
# is, so there is nothing to upcast and the version stays. A previous release cannot read a
# sealed note or decline reason (its `text`, `reason` are required): UnreadableEvent.
# `review.finding_added` and `TaskSnapshot.corrective_action` widened it the same way: a
# previous release reads a finding as an UnknownEventType (the timeline shows it unrecognised)
# and a corrective action's task events as any task's.
SCHEMA_VERSION = 1


class Event(Contract):
    # Every stored event says which shape it was written in, so a later version can upcast it.
    # Events stored before versions existed carry none and are read as version 1.
    schema_version: int = Field(default=SCHEMA_VERSION, ge=0)
    # The event id doubles as the Nats-Msg-Id, so it is derived from what the event records:
    # publishing the same fact twice yields the same id and the server drops the copy.
    event_id: str = Field(min_length=1, max_length=200)
    incident_id: IncidentId
    actor: str = Field(min_length=1, max_length=64)
    at: UtcDateTime


class IncidentLogged(Event):
    type: Literal["incident.logged"] = "incident.logged"
    incident_type: Slug
    title: str
    severity: Severity
    attributes: dict[str, str] = {}
    auto_trigger: bool = True
    involved: tuple[PersonId, ...] = Field(
        default=(), description="Roster members involved in the incident: never assigned to it"
    )
    exercise: bool = Field(default=False, description="A tabletop drill, not a real incident")
    time_scale: float = Field(default=1.0, gt=0, description="Every window is multiplied by this")


class IncidentClosed(Event):
    """Command staff ended the response; open tasks are cancelled, nothing pending fires."""

    type: Literal["incident.closed"] = "incident.closed"
    reason: str


class PlaybookTriggered(Event):
    type: Literal["playbook.triggered"] = "playbook.triggered"
    playbook_id: Slug
    playbook_title: str
    version: str
    trigger: Literal["automatic", "manual"]
    run: int = Field(
        default=1, ge=1, description="Which run of the incident (2 after one was cancelled)"
    )
    roster_version: str = Field(
        default="",
        max_length=64,
        description="The roster version the run's assignments use (empty in older events: the "
        "live roster)",
    )
    incident_logged_at: UtcDateTime
    attributes: dict[str, str] = {}
    attribute_specs: dict[str, AttributeSpec] = {}
    involved: tuple[PersonId, ...] = ()
    exercise: bool = False
    time_scale: float = 1.0
    phases: tuple[Phase, ...] = ()
    tasks: tuple[TaskTemplate, ...]

    def phase_offset(self, phase_id: str | None) -> timedelta:
        return next((p.starts_after for p in self.phases if p.id == phase_id), timedelta(0))

    def scaled(self, window: timedelta) -> timedelta:
        return window * self.time_scale


class RunInPlace(Event):
    """Everything a playbook run sets up is in place: its tasks created or skipped, its
    follow-ups scheduled, and the tasks whose prerequisites were already done released. Until
    this is recorded, a redelivery or the reconciler finishes the fan-out."""

    type: Literal["playbook.in_place"] = "playbook.in_place"
    playbook_id: Slug
    run: int = Field(
        default=1, ge=1, description="Which run of the incident (2 after one was cancelled)"
    )
    created: int = Field(ge=0)
    skipped: int = Field(ge=0)
    follow_ups: int = Field(ge=0, description="Follow-ups scheduled when the run was set up")


class PlaybookCancelled(Event):
    """Command staff undid a playbook run (triggered by mistake): its open tasks are cancelled
    and nothing of it fires later; another playbook may then be triggered."""

    type: Literal["playbook.cancelled"] = "playbook.cancelled"
    playbook_id: Slug
    run: int = Field(
        default=1, ge=1, description="Which run of the incident (2 after one was cancelled)"
    )
    reason: str


class TaskEvent(Event):
    task: TaskSnapshot


class TaskCreated(TaskEvent):
    type: Literal["task.created"] = "task.created"


class TaskSkipped(TaskEvent):
    """The task's condition did not hold for this incident; it was never assigned."""

    type: Literal["task.skipped"] = "task.skipped"
    reason: str


class TaskReleased(TaskEvent):
    """Every prerequisite completed: a waiting task goes to its assignee."""

    type: Literal["task.released"] = "task.released"


class TaskAssigned(TaskEvent):
    """The task changed hands (after a decline)."""

    type: Literal["task.assigned"] = "task.assigned"
    previous_assignee: PersonId | None = None


DeadlineKind = Literal["acknowledge", "due"]


class TaskReminded(TaskEvent):
    """The task's due time is near and it is not complete: a reminder goes to its assignee."""

    type: Literal["task.reminded"] = "task.reminded"
    due_by: UtcDateTime


class TaskEscalated(TaskEvent):
    """A deadline passed (not acknowledged, or not completed) and one step of the task's
    escalation chain ran. Appended once per step and assignment, whatever fires it how often.
    For `reassign` the snapshot has the new assignee and `missed_by` the one who missed it;
    `notify` lists whom the step tells (the assignee for `remind`, the role's coordinators,
    the command staff); `webhook` steps carry the URL to call."""

    type: Literal["task.escalated"] = "task.escalated"
    deadline: DeadlineKind
    step: int = Field(ge=1, description="Position in the chain, counting its repeats")
    action: EscalationAction
    notify: tuple[PersonId, ...] = ()
    missed_by: PersonId | None = None
    webhook_url: str | None = None


class TaskNoted(TaskEvent):
    """Someone added a note to the task (the note is the snapshot's last)."""

    type: Literal["task.noted"] = "task.noted"


CancelCause = Literal["incident_closed", "playbook_cancelled"]


class TaskCancelled(TaskEvent):
    """The incident was closed, or its playbook run cancelled, before the task was done."""

    type: Literal["task.cancelled"] = "task.cancelled"
    cause: CancelCause = "incident_closed"


class TaskAcknowledged(TaskEvent):
    type: Literal["task.acknowledged"] = "task.acknowledged"


class TaskStarted(TaskEvent):
    type: Literal["task.started"] = "task.started"


class TaskCompleted(TaskEvent):
    type: Literal["task.completed"] = "task.completed"


class TaskDeclined(TaskEvent):
    type: Literal["task.declined"] = "task.declined"
    reason: str | None = None
    reason_sealed: Sealed | None = Field(
        default=None,
        description="Why, when the task is restricted: sealed for the decliner's scope",
    )

    @model_validator(mode="after")
    def _reason_or_sealed(self) -> Self:
        if (self.reason is None) == (self.reason_sealed is None):
            raise ValueError("a decline holds either its reason or its sealed reason, exactly one")
        only_restricted_sealed(self.task.tier, self.reason_sealed)
        return self


class FollowUpDue(Event):
    """A scheduled follow-up came due; the engine creates it as a task of its own."""

    type: Literal["followup.due"] = "followup.due"
    parent_key: Slug
    number: int = Field(ge=1)
    due_at: UtcDateTime
    run: int = Field(
        default=1, ge=1, description="Which run of the incident (2 after one was cancelled)"
    )


class DeadlineReached(Event):
    """What a task's timer carries (in the timers stream, never in the events stream): the
    moment for reminder or escalation step `number` of the task's `assignment` has come."""

    type: Literal["deadline.reached"] = "deadline.reached"
    task_key: Slug
    kind: Literal["ack", "due", "remind"]
    assignment: int = Field(ge=0)
    number: int = Field(ge=1)


class ResponseCompleted(Event):
    type: Literal["response.completed"] = "response.completed"
    playbook_id: Slug
    run: int = Field(
        default=1, ge=1, description="Which run of the incident (2 after one was cancelled)"
    )
    completed_tasks: int


class FindingAdded(Event):
    """A reviewer or command staff recorded a finding of the incident's after-action review:
    a strength or an area for improvement, about a role family or a phase (or neither)."""

    type: Literal["review.finding_added"] = "review.finding_added"
    finding_id: Slug
    kind: FindingKind
    text: str = Field(min_length=1)
    family: RoleFamily | None = None
    phase: Slug | None = None


class NoticeEvent(Event):
    """What came of sending one notice through one of its recipient's channels; at most one is
    appended per notice and channel. It names where the message went only as far as is safe to
    keep (a mail server without its password, a webhook's host and path), never an address."""

    notice_id: NoticeId
    kind: NoticeKind
    recipient: PersonId = Field(
        description="Who it was for (`escalation-webhook` for an escalation chain's webhook)"
    )
    task_id: TaskId
    channel: Channel
    channel_key: ChannelKey
    target: str = Field(max_length=500, description="Where it went, safe to show")
    attempt: int = Field(ge=1, description="The try that ended it")
    restricted: bool = Field(default=False, description="About a restricted task")


class NoticeSent(NoticeEvent):
    type: Literal["notice.sent"] = "notice.sent"


class NoticeFailed(NoticeEvent):
    """A permanent failure, or the last try failed: the role's coordinators are told."""

    type: Literal["notice.failed"] = "notice.failed"
    error: str = Field(max_length=500)
    permanent: bool = Field(description="No try could have helped (a refused address, no secret)")


class RecordSealed(Event):
    """A periodic seal (services/engine/record_sealing.py): written some quiet time after an
    incident's last event, it pins what the record held then, so deleting its last events is
    caught too (each event's own seal only links it to the one before it). Bookkeeping: it is
    on the record, not in the timeline."""

    type: Literal["record.sealed"] = "record.sealed"
    through_seq: int = Field(ge=1, description="The stream sequence of the last event pinned")
    events: int = Field(ge=1, description="The incident's events up to through_seq, seals too")
    digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="record_digest of those events")
    previous_seal_seq: int = Field(ge=0, description="The seal before this one (0: none)")
    seqs: tuple[int, ...] = Field(
        description="The sequence of every event since the previous seal, so a deleted one is named"
    )


class RecordSealDue(Contract):
    """What an incident's pending periodic seal carries (in the timers stream only)."""

    incident_id: IncidentId


AnyEvent = Annotated[
    IncidentLogged
    | IncidentClosed
    | PlaybookTriggered
    | RunInPlace
    | PlaybookCancelled
    | TaskCreated
    | TaskSkipped
    | TaskReleased
    | TaskAssigned
    | TaskReminded
    | TaskEscalated
    | TaskNoted
    | TaskCancelled
    | TaskAcknowledged
    | TaskStarted
    | TaskCompleted
    | TaskDeclined
    | FollowUpDue
    | DeadlineReached
    | ResponseCompleted
    | FindingAdded
    | NoticeSent
    | NoticeFailed
    | RecordSealed,
    Field(discriminator="type"),
]
ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)
# Every event type this version can read, taken from the union above.
KNOWN_TYPES: frozenset[str] = frozenset(
    model.model_fields["type"].default for model in get_args(get_args(AnyEvent)[0])
)

AnyTaskEvent = (
    TaskCreated
    | TaskSkipped
    | TaskReleased
    | TaskAssigned
    | TaskReminded
    | TaskEscalated
    | TaskNoted
    | TaskCancelled
    | TaskAcknowledged
    | TaskStarted
    | TaskCompleted
    | TaskDeclined
)


def event_verb(event: AnyEvent | AnyTaskEvent) -> str:
    """The last token of the event's subject: `task.acknowledged` -> `acknowledged`."""
    return event.type.rsplit(".", 1)[1]
