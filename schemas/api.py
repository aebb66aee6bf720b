"""The HTTP API's own contracts (services/gateway): problem details, health answers, the request
bodies of /api/v1 and what only the API answers (a command's outcome, the account, tokens)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import Field, Strict
from typing_extensions import TypeForm

from schemas.accounts import MAX_PASSWORD_LENGTH, TokenId, TokenName, Username
from schemas.base import Contract, PersonId, Slug, UtcDateTime
from schemas.commands import (
    MAX_NOTE_LENGTH,
    MAX_TIME_SCALE,
    AttributeKey,
    AttributeValue,
    ErrorCode,
)
from schemas.enums import FindingKind, RoleFamily, Severity, Tier
from schemas.limits import (
    ATTRIBUTES_MAX,
    FINDING_MAX,
    INVOLVED_MAX,
    NOTE_MAX,
    REASON_MAX,
    TITLE_MAX,
)
from schemas.principals import AccessRole
from schemas.replies import parametrized_name

DataT = TypeVar("DataT")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemField(Contract):
    """One invalid part of a request: where (`body.title`, `query.limit`) and what is wrong.
    The value sent is never repeated back."""

    field: str
    message: str


class Problem(Contract):
    """An error, as RFC 9457 problem details (`application/problem+json`). `type` stays
    `about:blank` (the title is then the HTTP status phrase); `code` tells errors of one
    status apart for programs."""

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = None
    code: ErrorCode | None = None
    # For a request that failed validation: every field at fault.
    errors: list[ProblemField] | None = None


class Health(Contract):
    """`/healthz`: the process answers."""

    status: Literal["ok"] = "ok"


class Readiness(Contract):
    """`/readyz` when every readiness check passes (otherwise a 503 Problem naming those that
    failed)."""

    status: Literal["ready"] = "ready"
    checks: list[str]


# JSON's true and false, and numbers; not 0, 1 or "1.5" taken for them.
StrictBool = Annotated[bool, Strict()]
StrictFloat = Annotated[float, Strict()]


# ---- request bodies of /api/v1 ----------------------------------------------------------------
# What a client sends: never who it is (the token says) nor a request id (the Idempotency-Key
# header gives one). The gateway makes the internal command (schemas/commands.py) from a body
# and the path, and that command's own checks apply too.


class LogIncidentBody(Contract):
    incident_type: Slug
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    severity: Severity = Severity.HIGH
    attributes: dict[AttributeKey, AttributeValue] = Field(default={}, max_length=ATTRIBUTES_MAX)
    auto_trigger: StrictBool = Field(
        default=True, description="Start a matching automatic playbook"
    )
    involved: tuple[PersonId, ...] = Field(
        default=(),
        max_length=INVOLVED_MAX,
        description="Roster members involved in the incident: never assigned its tasks",
    )
    exercise: StrictBool = Field(default=False, description="A tabletop drill, marked as such")
    time_scale: StrictFloat = Field(
        default=1.0,
        gt=0,
        le=MAX_TIME_SCALE,
        allow_inf_nan=False,
        description="For an exercise: every window multiplied by this",
    )


class TriggerPlaybookBody(Contract):
    playbook_id: Slug


class ReasonBody(Contract):
    """Why: closing an incident or cancelling a playbook run."""

    reason: str = Field(min_length=1, max_length=1000)


class CompleteBody(Contract):
    note: str | None = Field(
        default=None, max_length=NOTE_MAX, description="What was done, kept at the task's tier"
    )


class DeclineBody(Contract):
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class AssignBody(Contract):
    to: PersonId


class NoteBody(Contract):
    text: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH)
    tier: Tier = Field(description="Who may read it: public, command or restricted")


class FindingBody(Contract):
    kind: FindingKind
    text: str = Field(min_length=1, max_length=FINDING_MAX, description="One line")
    family: RoleFamily | None = Field(default=None, description="The role family it is about")
    phase: Slug | None = Field(default=None, description="Or the playbook phase it is about")


class CorrectiveActionBody(Contract):
    text: str = Field(min_length=1, max_length=TITLE_MAX, description="One line")
    owner: PersonId
    due_by: UtcDateTime | None = Field(default=None, description="A time with its offset")
    due_on: str | None = Field(
        default=None,
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="Or a date, YYYY-MM-DD: due by the end of that day in the owner's time zone",
    )


class LoadRosterBody(Contract):
    roster: dict[str, Any] = Field(description="A roster, as the roster file holds it")
    source: str = Field(default="", max_length=500, description="The file it came from")


class AwayBody(Contract):
    person: PersonId
    starts: UtcDateTime
    until: UtcDateTime


class BackBody(Contract):
    person: PersonId


class TokenRequest(Contract):
    name: TokenName = Field(description="What the token is for, shown in lists")


class PasswordTokenRequest(Contract):
    """Sign in with a password for an API token (what `pathways login` does)."""

    username: Username
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    name: TokenName = "pathways login"


# ---- answers of /api/v1 -----------------------------------------------------------------------


class Outcome(Contract, Generic[DataT]):
    """What a command did. `changed` is false when it had been done already (the same
    Idempotency-Key again, or a state the command would only have led to)."""

    changed: bool
    data: DataT
    notice: str | None = Field(
        default=None, description="Something the person who asked should know, in a sentence"
    )

    @classmethod
    def model_parametrized_name(cls, params: tuple[TypeForm[Any], ...]) -> str:
        return parametrized_name(params, "Outcome")


class Me(Contract):
    account: Username
    person: PersonId | None = Field(description="The roster member this account is")
    grants: list[AccessRole] = Field(description="Access roles granted to the account")
    roles: list[AccessRole] = Field(
        description="Every access role the account has now: its grants and what the roster in "
        "force gives its person"
    )


class TokenInfo(Contract):
    id: TokenId
    name: TokenName
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None = None


class TokenCreated(TokenInfo):
    token: str = Field(description="The token itself: shown this once, never again")


class IdempotencyRecord(Contract):
    """What the idempotency bucket keeps of a POST sent with an Idempotency-Key (24 h): a hash
    of what was asked, so that the same key with another request is refused."""

    request_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    at: UtcDateTime
