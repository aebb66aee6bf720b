"""What each command and query answers with: the `data` of its reply, one model per operation.

The handlers build these (`ok(LogIncidentResult(...))`), the catalog names each operation's
(schemas/catalog.py), and so the AsyncAPI document and the HTTP API's OpenAPI show the same
models. `Answer[Model]` is the reply envelope with its data typed, as NATS carries it; a list's
data is a `Page` of its items.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import Field
from typing_extensions import TypeForm

from schemas.availability import AwayPeriod
from schemas.base import Contract, IncidentId, PersonId, Slug, UtcDateTime
from schemas.commands import ErrorInfo
from schemas.enums import Severity
from schemas.playbook import Playbook
from schemas.roster_versions import RosterVersion
from schemas.views import IncidentSummary, PlaybookInfo

ItemT = TypeVar("ItemT")
DataT = TypeVar("DataT")


def parametrized_name(params: tuple[TypeForm[Any], ...] | TypeForm[Any], suffix: str) -> str:
    """`Page[TaskSnapshot]` is named TaskSnapshotPage, `Answer[list[PlaybookInfo]]`
    PlaybookInfoListAnswer: names the schemas of both documents can show."""
    param = params[0] if isinstance(params, tuple) else params
    origin = get_origin(param)
    if origin is list:
        return f"{parametrized_name(get_args(param), '')}List{suffix}"
    if origin is dict:
        return f"Object{suffix}"
    return f"{getattr(param, '__name__', 'Any')}{suffix}"


class Page(Contract, Generic[ItemT]):
    """A page of a list. `remaining` counts the items after this page; it is an upper bound
    (`remaining_exact` false) when a filter is applied to records as they are read. Pass
    `next_cursor` as `cursor` for the next page; it is opaque."""

    items: list[ItemT]
    next_cursor: str | None = None
    remaining: int = 0
    remaining_exact: bool = True

    @classmethod
    def model_parametrized_name(cls, params: tuple[TypeForm[Any], ...]) -> str:
        return parametrized_name(params, "Page")


# What a list handler builds: items as JSON objects, sized as it goes (services.core.paging).
RawPage = Page[dict[str, Any]]


class Answer(Contract, Generic[DataT]):
    """The reply to a command or query, its data typed. `changed` is false when the request
    was already applied; `error` is set (and `ok` false) when it was refused."""

    ok: bool
    changed: bool = False
    data: DataT | None = None
    error: ErrorInfo | None = None
    notice: str | None = Field(
        default=None, description="Something the person who asked should know, in a sentence"
    )
    kind: Literal["reply"] = "reply"

    @classmethod
    def model_parametrized_name(cls, params: tuple[TypeForm[Any], ...]) -> str:
        return parametrized_name(params, "Answer")


class LogIncidentResult(Contract):
    incident: IncidentSummary
    suggested_playbooks: list[Slug] = Field(description="Playbooks that match the incident")
    below_min_severity: dict[str, Severity] = Field(
        default={},
        description="Playbooks for its type that need a higher severity, with the one each needs",
    )
    automatic_playbook: Slug | None = Field(
        default=None, description="The playbook starting on its own, if one does"
    )


class PlaybookStarted(Contract):
    incident_id: IncidentId
    playbook_id: Slug
    version: str
    tasks: int = Field(ge=0, description="How many tasks the run has")
    trigger: Literal["automatic", "manual"]
    run: int = Field(ge=1)


class IncidentClosedResult(Contract):
    incident_id: IncidentId
    closed_by: str = Field(description="Who closed it (the first to, when it already was)")


class PlaybookCancelledResult(Contract):
    incident_id: IncidentId
    playbook_id: Slug
    run: int = Field(ge=1)
    cancelled_by: str
    cancelled_tasks: int | None = Field(
        default=None, description="Open tasks cancelled now; none when it was cancelled before"
    )


class RosterLoaded(Contract):
    version: str = Field(description="The version now in force")
    previous: str = Field(description="The version in force before")


class BackRecorded(Contract):
    id: PersonId = Field(description="Who is back")
    back_at: UtcDateTime


class RosterReply(Contract):
    version: str
    loaded: RosterVersion | None = Field(
        default=None, description="Who put it in force and when; none: the server's file"
    )
    file: str = Field(description="The roster file the server started with")
    roster: dict[str, Any] = Field(
        description="The roster as stored (the roster file's shape); channels and addresses "
        "only for administrators"
    )
    away: list[AwayPeriod] = Field(description="Away periods not over yet")


class PlaybookDetail(Contract):
    info: PlaybookInfo
    playbook: Playbook
    source: str = Field(description="The YAML it was read from, exactly")
