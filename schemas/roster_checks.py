"""Checks across a roster's sections that pydantic cannot make field by field: every id a member
or team refers to is declared, and nothing is declared twice. Each issue is (field path,
message), so a file's problems are reported with their line."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from schemas.channels import ChannelKind
from schemas.enums import RoleFamily
from schemas.oncall_checks import on_call_issues
from schemas.suggest import unknown

if TYPE_CHECKING:
    from schemas.roster import Member, Roster

FieldPath = tuple[str | int, ...]
Issue = tuple[FieldPath, str]

FAMILIES = ", ".join(f.value for f in RoleFamily)


def roster_issues(roster: Roster) -> list[Issue]:
    issues: list[Issue] = []
    issues += _duplicates("roles", "role", [r.id for r in roster.roles])
    issues += _duplicates("organisations", "organisation", [o.id for o in roster.organisations])
    issues += _duplicates("teams", "team", [t.id for t in roster.teams])
    issues += _duplicates("members", "member", [m.id for m in roster.members])
    issues += list(_family_issues(roster))
    members = [m.id for m in roster.members]
    for index, role in enumerate(roster.roles):
        for position, person in enumerate(role.coordinators):
            if person not in members:
                message = unknown("member", person, members)
                issues.append((("roles", index, "coordinators", position), message))
    organisations = [o.id for o in roster.organisations]
    for index, team in enumerate(roster.teams):
        if team.organisation not in organisations:
            message = unknown("organisation", team.organisation, organisations)
            issues.append((("teams", index, "organisation"), f"team {team.id}: {message}"))
    for index, member in enumerate(roster.members):
        issues += [
            (("members", index, *path), f"member {member.id}: {message}")
            for path, message in _member_issues(roster, member)
        ]
    issues += on_call_issues(roster)
    return issues


def _duplicates(section: str, what: str, ids: Sequence[str]) -> list[Issue]:
    seen: set[str] = set()
    issues: list[Issue] = []
    for index, value in enumerate(ids):
        if value in seen:
            issues.append(((section, index, "id"), f"duplicate {what} id {value!r}"))
        seen.add(value)
    return issues


def _family_issues(roster: Roster) -> Iterator[Issue]:
    for index, role in enumerate(roster.roles):
        if not role.families:
            yield (
                ("roles", index, "family"),
                f"role {role.id} needs at least one family: one of {FAMILIES}",
            )
        elif len(set(role.families)) != len(role.families):
            yield (("roles", index, "family"), f"role {role.id} names a family twice")


def _member_issues(roster: Roster, member: Member) -> Iterator[Issue]:
    roles = [r.id for r in roster.roles]
    for index, role in enumerate(member.roles):
        if role not in roles:
            yield ("roles", index), unknown("role", role, roles)
    # A roster that declares no organisations is the older format: free-text organisations.
    organisation = roster.organisation(member.organisation)
    if roster.organisations and organisation is None:
        organisations = [o.id for o in roster.organisations]
        yield ("organisation",), unknown("organisation", member.organisation, organisations)
    if member.team is not None and member.team not in [t.id for t in roster.teams]:
        yield ("team",), unknown("team", member.team, [t.id for t in roster.teams])
    if organisation is not None and member.partner not in (None, organisation.partner):
        kind = "a partner" if organisation.partner else "not a partner"
        yield (
            ("partner",),
            f"{organisation.id} is {kind} organisation; partner is set on the organisation",
        )
    emails = [c.address for c in member.channels if c.kind is ChannelKind.EMAIL]
    if member.email is not None and member.email not in emails:
        yield ("email",), "email is not among the channels; list it there (kind: email)"
    explicit = "preferred_language" in member.model_fields_set
    if explicit and member.languages and member.preferred_language not in member.languages:
        yield (
            ("preferred_language",),
            f"{member.preferred_language} is not among the languages they speak "
            f"({', '.join(member.languages)})",
        )
