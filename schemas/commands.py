"""Commands (requests over NATS request-reply) and their replies."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.base import Contract, IncidentId, PersonId, RequestId, RoleId, Slug, TaskId
from schemas.enums import Severity, TaskStatus, Tier
from schemas.limits import (
    ATTRIBUTE_KEY_MAX,
    ATTRIBUTE_VALUE_MAX,
    ATTRIBUTES_MAX,
    CURSOR_MAX,
    INVOLVED_MAX,
    LIST_LIMIT_DEFAULT,
    LIST_LIMIT_MAX,
    NOTE_MAX,
    REASON_MAX,
    TITLE_MAX,
)
from schemas.sealed import Sealed
from schemas.tasks import only_restricted_sealed

AttributeKey = Annotated[
    str, StringConstraints(max_length=ATTRIBUTE_KEY_MAX, pattern=r"^[a-z][a-z0-9_]*$")
]
AttributeValue = Annotated[str, StringConstraints(max_length=ATTRIBUTE_VALUE_MAX)]

# An exercise may run its windows at most this many times slower than real time.
# An event's type as stored (`task.completed`): one this version knows, or a newer one's.
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,30}\.[a-z][a-z_]{0,30}$")]
MAX_TIME_SCALE = 1000.0


class Command(Contract):
    # Chosen by the client and reused on retry: the same request id never changes anything twice.
    request_id: RequestId
    actor: PersonId


class LogIncident(Command):
    incident_type: Slug
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    severity: Severity = Severity.HIGH
    attributes: dict[AttributeKey, AttributeValue] = Field(default={}, max_length=ATTRIBUTES_MAX)
    auto_trigger: bool = True
    involved: tuple[PersonId, ...] = Field(default=(), max_length=INVOLVED_MAX)
    exercise: bool = False
    time_scale: float = Field(default=1.0, gt=0, le=MAX_TIME_SCALE, allow_inf_nan=False)


class TriggerPlaybook(Command):
    incident_id: IncidentId
    playbook_id: Slug


class TaskVerb(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    COMPLETE = "complete"
    DECLINE = "decline"


class ActOnTask(Command):
    verb: TaskVerb
    task_id: TaskId
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    reason: str | None = Field(default=None, max_length=REASON_MAX)
    # On a restricted task, the note and the reason travel sealed for the actor's scope.
    note_sealed: Sealed | None = None
    reason_sealed: Sealed | None = None

    @model_validator(mode="after")
    def _plain_or_sealed(self) -> Self:
        if self.note is not None and self.note_sealed is not None:
            raise ValueError("send the note either plain or sealed, not both")
        if self.reason is not None and self.reason_sealed is not None:
            raise ValueError("send the reason either plain or sealed, not both")
        return self


class CloseIncident(Command):
    """End the response: open tasks are cancelled and nothing pending fires later."""

    incident_id: IncidentId
    reason: str = Field(min_length=1, max_length=1000)


class CancelPlaybook(Command):
    """Undo a playbook triggered by mistake: its open tasks are cancelled, nothing of it fires
    later, and another playbook may be triggered."""

    incident_id: IncidentId
    reason: str = Field(min_length=1, max_length=1000)


class AssignTask(Command):
    """Command staff give a task to an eligible person (restarting its clock)."""

    task_id: TaskId
    to: PersonId


class ClaimTask(Command):
    """A holder of the task's role takes it while nobody has it."""

    task_id: TaskId


# Notes a task may carry; past that, a new note is refused (the timeline stays readable).
MAX_NOTES_PER_TASK = 100
MAX_NOTE_LENGTH = 4000


class NoteTask(Command):
    task_id: TaskId
    text: str | None = Field(default=None, min_length=1, max_length=MAX_NOTE_LENGTH)
    tier: Tier
    sealed: Sealed | None = Field(
        default=None, description="A restricted note, sealed for the author's scope"
    )

    @model_validator(mode="after")
    def _text_or_sealed(self) -> Self:
        if (self.text is None) == (self.sealed is None):
            raise ValueError("a note needs its text or its sealed text, exactly one")
        only_restricted_sealed(self.tier, self.sealed)
        return self


# Queries carry no request id: they change nothing.
class Query(Contract):
    pass


class GetIncident(Query):
    incident_id: IncidentId


class ListQuery(Query):
    """A page of a list: at most `limit` items after `cursor` (the `next_cursor` of the page
    before; opaque to clients)."""

    limit: int = Field(default=LIST_LIMIT_DEFAULT, ge=1, le=LIST_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)


class ListIncidents(ListQuery):
    pass


class GetTask(Query):
    task_id: TaskId


class ListTasks(ListQuery):
    incident_id: IncidentId | None = None
    assignee: PersonId | None = None
    status: TaskStatus | None = None


class ListInbox(ListQuery):
    """A person's in-app notices, newest first: the asker's own unless `person` is given (and
    only the owner may read an inbox)."""

    person: PersonId | None = None


class GetTimeline(Query):
    """An incident's timeline. Each filter left empty keeps every entry; given, an entry is kept
    when it matches one of its values, and every filter given (added in a later version: a
    server before it refuses a query that names any)."""

    incident_id: IncidentId
    roles: tuple[RoleId, ...] = Field(default=(), description="Entries of tasks of these roles")
    phases: tuple[Slug, ...] = Field(default=(), description="Entries of tasks of these phases")
    people: tuple[PersonId, ...] = Field(
        default=(), description="Entries these people acted in, held the task of, or wrote"
    )
    types: tuple[EventType, ...] = Field(default=(), description="Entries of these event types")


class ListPlaybooks(Query):
    pass


class GetPlaybook(Query):
    playbook_id: Slug
    version: str | None = Field(default=None, pattern=r"^[0-9a-f]{12}$")


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"
    NOT_ASSIGNEE = "not_assignee"
    UNAUTHENTICATED = "unauthenticated"  # no principal, or one that cannot be trusted
    FORBIDDEN = "forbidden"  # the principal may not do this (services.core.access)
    INVALID_TRANSITION = "invalid_transition"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


class ErrorInfo(Contract):
    code: ErrorCode
    message: str


class Reply(Contract):
    """The envelope of every reply. `changed` is false when the request was already applied."""

    ok: bool
    changed: bool = False
    data: dict[str, Any] | list[Any] | None = None
    error: ErrorInfo | None = None
    notice: str | None = Field(
        default=None, description="Something the person who asked should know, in a sentence"
    )
    kind: Literal["reply"] = "reply"
