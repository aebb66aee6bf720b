"""Notices to people and what came of sending them: the contracts of the notifier."""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, HttpUrl, StringConstraints, field_validator, model_validator

from schemas.base import Contract, IncidentId, PersonId, Slug, TaskId, UtcDateTime
from schemas.channels import invalid

# A notice id ends up as an email Message-ID, a webhook-id and a dedup key: event-id characters.
NoticeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
# A language tag such as en, es or es-MX; only the primary subtag chooses the templates.
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")]
SecretRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
# Which of a person's channels a delivery went through: its kind, then -2, -3 … for a second or
# third channel of the same kind (`email`, `email-2`). A subject token and a part of event ids.
ChannelKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")]


class NoticeKind(StrEnum):
    ASSIGNED = "assigned"  # a task was given to the recipient
    REMINDER = "reminder"  # the recipient's task is due soon
    ACKNOWLEDGE_OVERDUE = "acknowledge_overdue"  # the recipient has not acknowledged in time
    ESCALATED_TO_YOU = "escalated_to_you"  # reassigned to the recipient after someone missed it
    ESCALATION = "escalation"  # to a coordinator or command staff: someone missed a deadline
    DELIVERY_FAILED = "delivery_failed"  # to the coordinator: a person could not be reached


class Notice(Contract):
    """What one message to one person says, and nothing more.

    A notice carries only the facts below. It has no field for task or incident notes, incident
    attributes or the people involved in an incident, by design: whatever a message could say
    must be one of these fields, so none of that can reach an inbox, a mail server or a webhook
    receiver. A restricted task's message leaves out even the title and the incident type.
    """

    notice_id: NoticeId = Field(
        description="The id of the event the notice is about: a dedup key and the webhook-id"
    )
    kind: NoticeKind
    recipient_id: PersonId
    recipient_name: str = Field(min_length=1, max_length=200)
    language: LanguageTag = "en"
    time_zone: str = Field(default="UTC", description="IANA time zone, e.g. America/Chicago")
    task_id: TaskId
    task_title: str = Field(min_length=1, max_length=200)
    incident_id: IncidentId
    incident_type: Slug
    acknowledge_by: UtcDateTime | None = None
    due_by: UtcDateTime | None = None
    restricted: bool = False
    urgent: bool = False
    link: HttpUrl | None = Field(
        default=None, description="Where to open the task; set when PATHWAYS_PUBLIC_URL is"
    )
    exercise: bool = Field(default=False, description="About a drill, not a real incident")
    link_assignment: int | None = Field(
        default=None,
        ge=1,
        description="To a partner who holds the task: the assignment an action link is made for "
        "when the message is sent (the link itself, a credential, is never kept)",
    )
    missed_by: PersonId | None = Field(
        default=None,
        description="Escalations: who missed the deadline; delivery_failed: who was not reached",
    )
    step: int | None = Field(default=None, ge=1, description="Escalations: which step this is")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


class Channel(StrEnum):
    INBOX = "inbox"  # the person's list of notices in Pathways itself
    EMAIL = "email"
    WEBHOOK = "webhook"  # a signed POST (Standard Webhooks) to a partner's system
    APPRISE = "apprise"  # anything Apprise reaches: SMS gateways, Teams, Slack, Signal …


class Target(Contract):
    """One entry of a person's channel list, in the order they want to be reached.

    `address` is the email address (default: the roster's), the webhook URL or the Apprise URL;
    `secret_ref` names a secret held outside the roster: a webhook's signing secret, or an
    Apprise URL whose tokens must not be written in the roster.
    """

    kind: Channel
    address: str | None = Field(default=None, max_length=2000)
    secret_ref: SecretRef | None = None
    after: timedelta = Field(
        default=timedelta(0), description="Wait this long first; skipped once acknowledged"
    )

    @field_validator("after")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("a delay cannot be negative")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Target:
        if self.kind is Channel.WEBHOOK:
            if not (self.address or "").startswith(("https://", "http://")):
                raise ValueError("a webhook needs an http(s) URL as its address")
            if self.secret_ref is None:
                raise ValueError("a webhook needs a secret_ref naming its signing secret")
        if self.kind is Channel.APPRISE and self.address is None and self.secret_ref is None:
            raise ValueError("an apprise target needs a URL, as its address or a secret_ref")
        if self.kind is Channel.INBOX and (self.address or self.secret_ref):
            raise ValueError("the inbox takes no address or secret")
        return self


class QuietHours(Contract):
    """Local times (in the person's zone) when non-urgent reminders wait; may span midnight.

    In a roster, either `"22:00-07:00"` or `{start: "22:00", end: "07:00"}`. Times must be
    quoted in the mapping: YAML reads an unquoted 22:00 as the number 1320, which would
    otherwise pass for 00:22."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _from_range(cls, data: Any) -> Any:
        if isinstance(data, str):
            start, sep, end = data.partition("-")
            if not sep:
                raise invalid("quiet_hours", "expected a range of local times such as 22:00-07:00")
            return {"start": start.strip(), "end": end.strip()}
        return data

    @field_validator("start", "end", mode="before")
    @classmethod
    def _a_written_time(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise invalid("quiet_hours", 'expected a time such as "22:00", in quotes')
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local times, without a zone")
        return self


class Delivery(Contract):
    """What came of sending one notice through one channel."""

    notice_id: NoticeId
    channel: Channel
    target: str = Field(description="Where it went, safe to log: no passwords, tokens or secrets")
    ok: bool
    error: str | None = None
    permanent: bool = Field(
        default=False, description="Failed in a way no retry will fix (a 5xx reply, a 410 …)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Delivery:
        if self.ok and (self.error is not None or self.permanent):
            raise ValueError("a delivery that went through has no error")
        if not self.ok and not self.error:
            raise ValueError("a failed delivery says why")
        return self


class InboxEntry(Contract):
    """One notice in a person's in-app inbox. A restricted task's entry, like its message,
    leaves out the task's title, the incident type and any name; it keeps the task id, which
    the person needs to act on the task inside Pathways."""

    notice_id: NoticeId
    kind: NoticeKind
    at: UtcDateTime = Field(description="When what the notice is about happened")
    recipient_id: PersonId
    subject: str = Field(description="The message's subject line, in the recipient's language")
    task_id: TaskId
    incident_id: IncidentId
    task_title: str | None = Field(default=None, description="None for a restricted task")
    incident_type: Slug | None = Field(default=None, description="None for a restricted task")
    acknowledge_by: UtcDateTime | None = None
    due_by: UtcDateTime | None = None
    restricted: bool = False
    urgent: bool = False
    exercise: bool = False
    link: str | None = None
    missed_by: PersonId | None = None
    step: int | None = None


class PendingSend(Contract):
    """A send waiting in the timers stream: a channel listed with a delay (tried only if the task
    still needs it then), or another try after a failure that may pass."""

    notice: Notice
    channel_key: ChannelKey
    attempt: int = Field(ge=1, description="Which try this is; 1 is the first")
    at: UtcDateTime = Field(description="When what the notice is about happened")
    target: Target | None = Field(
        default=None,
        description="Only for a target the roster does not list (the escalation webhook); "
        "otherwise the recipient's channel is looked up by its key when the send fires",
    )
