"""The agency's roster: the roles it has, the organisations and teams people belong to, and who
holds which role. The order of members within a role is the rotation order.

A roster from before roles were data (no `roles:` section) has the five classic roles; one with
no `organisations:` section names each member's organisation in free text and says on the member
whether they are a partner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    StringConstraints,
    model_validator,
)

from schemas.base import Contract, PersonId, RoleId
from schemas.calendars import is_inline
from schemas.channels import Channel, ChannelKind, invalid, is_email_address
from schemas.enums import RoleFamily
from schemas.escalation import DEFAULT_CHAIN, EscalationChain
from schemas.memo import IdentityMemo
from schemas.notifications import QuietHours
from schemas.oncall import AssignmentPolicy, OnCall
from schemas.roster_checks import roster_issues
from schemas.suggest import closest, unknown
from schemas.yaml_source import (
    Document,
    SourceError,
    SourceInvalid,
    read_document,
    validate_document,
)
from schemas.zones import TimeZoneName

__all__ = ["TimeZoneName"]  # kept importable from here, where it was first defined

OrganisationId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
TeamId = OrganisationId
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


def _email_address(value: str) -> str:
    if not is_email_address(value):
        raise invalid("email", "expected an email address such as name@example.org")
    return value


class RoleDefinition(Contract):
    id: RoleId
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    families: tuple[RoleFamily, ...] = Field(
        default=(),
        validation_alias=AliasChoices("family", "families"),
        description="One family, or a list when the role serves more than one",
    )
    coordinators: tuple[PersonId, ...] = Field(
        default=(), description="Told when a task of the role escalates (default: command staff)"
    )
    escalation: EscalationChain | None = Field(
        default=None, description="What happens when a task of the role misses a deadline"
    )
    # Who gets the role's tasks: the holders on call first (the default with a schedule), the
    # rotation (the default without), or whoever has the fewest open tasks.
    policy: AssignmentPolicy | None = None
    capacity: int | None = Field(
        default=None, ge=1, le=1000, description="Most open tasks a holder is given (this role)"
    )
    on_call: OnCall | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_family_or_a_list(cls, data: Any) -> Any:
        for key in ("family", "families"):
            if isinstance(data, dict) and isinstance(data.get(key), str):
                data = {**data, key: [data[key]]}
        return data


# The roles every roster had before rosters declared their own; a roster without `roles:` has
# these, so old rosters and the playbooks written for them keep working.
CLASSIC_ROLES = (
    RoleDefinition(
        id="community_liaison",
        title="Community liaison",
        families=(RoleFamily.COMMUNITY_LIAISON,),
    ),
    RoleDefinition(
        id="victim_advocate", title="Victim advocate", families=(RoleFamily.VICTIM_ADVOCATE,)
    ),
    RoleDefinition(id="peer_support", title="Peer support", families=(RoleFamily.PEER_SUPPORT,)),
    RoleDefinition(id="command_staff", title="Command staff", families=(RoleFamily.COMMAND,)),
    RoleDefinition(
        id="public_information",
        title="Public information",
        families=(RoleFamily.PUBLIC_INFORMATION,),
    ),
)


class Organisation(Contract):
    id: OrganisationId
    name: str = Field(min_length=1, max_length=200)
    partner: bool = Field(default=False, description="A partner organisation, not the agency")
    description: str = ""


class Team(Contract):
    id: TeamId
    name: str = Field(min_length=1, max_length=200)
    organisation: OrganisationId
    description: str = ""


class Member(Contract):
    id: PersonId
    name: str = Field(min_length=1)
    roles: tuple[RoleId, ...] = Field(min_length=1, description="Ids of roles the roster declares")
    organisation: str = Field(
        min_length=1,
        description="Id of an organisation the roster declares (free text in a roster that "
        "declares none)",
    )
    team: TeamId | None = None
    partner: bool | None = Field(
        default=None,
        description="Only for rosters without `organisations:`; otherwise the organisation says",
    )
    email: Annotated[str, AfterValidator(_email_address)] | None = Field(
        default=None, description="The older way to give an email channel"
    )
    languages: tuple[str, ...] = Field(default=(), description="Languages spoken, e.g. [en, es]")
    preferred_language: LanguageTag = "en"
    time_zone: TimeZoneName | None = Field(default=None, description="Default: the roster's")
    channels: tuple[Channel, ...] = Field(
        default=(), description="In order; a member who lists none is reached in the inbox"
    )
    quiet_hours: QuietHours | None = Field(
        default=None, description="e.g. 22:00-07:00, local: routine reminders wait until after"
    )
    active: bool = True

    @model_validator(mode="before")
    @classmethod
    def _default_channels(cls, data: Any) -> Any:
        # Everyone has an inbox; an old roster's `email` is an email channel after it. (An email
        # that is not an address is left to its own field's check, so it is reported once.)
        if not isinstance(data, dict) or data.get("channels"):
            return data
        channels: list[dict[str, str]] = [{"kind": ChannelKind.INBOX.value}]
        email = data.get("email")
        if isinstance(email, str) and is_email_address(email):
            channels.append({"kind": ChannelKind.EMAIL.value, "address": email})
        return {**data, "channels": channels}


class RosterInconsistent(Exception):
    """Ids that do not refer to anything declared, or declared twice. Not a ValueError, so it
    leaves pydantic as it is and keeps the field path of each problem."""

    def __init__(self, issues: list[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(message for _, message in issues))
        self.issues = issues


class Roster(Contract):
    agency: str
    example: bool = Field(default=False, description="Fictional people, for trying Pathways out")
    time_zone: TimeZoneName = Field(default="UTC", description="Members' time zone by default")
    roles: tuple[RoleDefinition, ...] = Field(default=CLASSIC_ROLES, min_length=1)
    organisations: tuple[Organisation, ...] = ()
    teams: tuple[Team, ...] = ()
    members: tuple[Member, ...]
    escalation: EscalationChain = Field(
        default=DEFAULT_CHAIN, description="For roles that declare no chain of their own"
    )
    capacity: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Most open tasks anyone is given, unless a role says",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Roster:
        issues = roster_issues(self)
        if issues:
            raise RosterInconsistent(issues)
        return self

    @property
    def classic_roles(self) -> bool:
        """True when the roster declares no roles of its own and has the classic five."""
        return "roles" not in self.model_fields_set

    def member(self, person_id: str) -> Member | None:
        return _index(self).members.get(person_id)

    def role(self, role_id: str) -> RoleDefinition | None:
        return _index(self).roles.get(role_id)

    def organisation(self, organisation_id: str) -> Organisation | None:
        return next((o for o in self.organisations if o.id == organisation_id), None)

    def unknown_person(self, person_id: str) -> str | None:
        """Why `person_id` names nobody (with the closest member id), None if it is a member."""
        if self.member(person_id) is not None:
            return None
        close = closest(person_id, [m.id for m in self.members])
        hint = f" (did you mean {close}?)" if close else ""
        return f"no roster member {person_id}{hint}"

    def unknown_role(self, role_id: str) -> str | None:
        """Why `role_id` names no role of this roster (with the closest), None if it does."""
        if self.role(role_id) is not None:
            return None
        known = [r.id for r in self.roles]
        problem = unknown("role", role_id, known)
        if self.classic_roles and closest(role_id, known) is None:
            return f"{problem} (a roster without a roles: section has only these)"
        return problem

    def holders(self, role_id: str) -> tuple[str, ...]:
        return _index(self).holders.get(role_id, ())

    def families_of(self, person_id: str) -> frozenset[RoleFamily]:
        """The families of every role the person holds; none for someone not on the roster."""
        return _index(self).families.get(person_id, frozenset())

    def in_family(self, person_id: str, family: RoleFamily) -> bool:
        return family in self.families_of(person_id)

    def command_staff(self) -> tuple[str, ...]:
        return _index(self).command_staff

    def coordinators_of(self, role_id: str) -> tuple[str, ...]:
        """Who is told when a task of the role escalates: its active coordinators, or command
        staff when it names none (or none is active)."""
        role = self.role(role_id)
        named = role.coordinators if role is not None else ()
        active = tuple(p for p in named if (m := self.member(p)) is not None and m.active)
        return active or self.command_staff()

    def escalation_for(self, role_id: str) -> EscalationChain:
        role = self.role(role_id)
        if role is not None and role.escalation is not None:
            return role.escalation
        return self.escalation

    def is_partner(self, member: Member) -> bool:
        """From a partner organisation rather than the agency."""
        organisation = self.organisation(member.organisation)
        if organisation is not None:
            return organisation.partner
        return bool(member.partner)

    def time_zone_of(self, member: Member) -> str:
        return member.time_zone or self.time_zone


# Reads an on-call calendar named by a path in the roster (relative to the roster file).
CalendarReader = Callable[[str], str]


def parse_roster(raw: bytes, file: str, read_calendar: CalendarReader | None = None) -> Roster:
    """Validate a roster file's content; raises SourceInvalid listing every problem found.
    Calendars given as paths are read with `read_calendar` and kept inline, so the roster
    carries everything it needs wherever it is stored."""
    document = read_document(raw, file)
    unread = _inline_calendars(document, read_calendar) if read_calendar else []
    errors: list[SourceError] = []
    try:
        roster = validate_document(document, Roster)
    except SourceInvalid as exc:
        errors = exc.errors
    except RosterInconsistent as exc:
        errors = [document.error(path, message) for path, message in exc.issues]
    else:
        if not unread:
            return roster
    # A calendar that could not be read is reported once, as such.
    unread_fields = {e.field for e in unread}
    errors = [*unread, *(e for e in errors if e.field not in unread_fields)]
    raise SourceInvalid(sorted(errors, key=lambda e: (e.line, e.column))) from None


def _inline_calendars(document: Document, read: CalendarReader) -> list[SourceError]:
    """Replace each role's `on_call.ical` path by the calendar's text; what cannot be read is
    reported where the path is written."""
    problems: list[SourceError] = []
    roles = document.data.get("roles")
    for index, role in enumerate(roles if isinstance(roles, list) else []):
        on_call = role.get("on_call") if isinstance(role, dict) else None
        if not isinstance(on_call, dict):
            continue
        ical = on_call.get("ical")
        if not isinstance(ical, str) or is_inline(ical):
            continue
        try:
            on_call["ical"] = read(ical)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            where = ("roles", index, "on_call", "ical")
            problems.append(document.error(where, f"cannot read the calendar {ical}: {reason}"))
    return problems


@dataclass(frozen=True)
class _RosterIndex:
    members: dict[str, Member]
    roles: dict[str, RoleDefinition]
    holders: dict[str, tuple[str, ...]]  # active members only, in roster order
    families: dict[str, frozenset[RoleFamily]]
    command_staff: tuple[str, ...]


def _build_index(roster: Roster) -> _RosterIndex:
    roles = {r.id: r for r in roster.roles}
    families = {
        m.id: frozenset(f for r in m.roles if r in roles for f in roles[r].families)
        for m in roster.members
    }
    holders: dict[str, list[str]] = {}
    for m in roster.members:
        if m.active:
            for role_id in dict.fromkeys(m.roles):
                holders.setdefault(role_id, []).append(m.id)
    return _RosterIndex(
        members={m.id: m for m in reversed(roster.members)},  # the first of a repeated id
        roles={r.id: r for r in reversed(roster.roles)},
        holders={role: tuple(people) for role, people in holders.items()},
        families=families,
        command_staff=tuple(
            m.id for m in roster.members if m.active and RoleFamily.COMMAND in families[m.id]
        ),
    )


_index: IdentityMemo[Roster, _RosterIndex] = IdentityMemo(_build_index, size=16)
