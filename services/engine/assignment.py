"""Who may take a task and who gets it, as pure functions over the roster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas.roster import Roster
from schemas.tasks import AssigneeRule


def eligible(
    roster: Roster,
    role: str,
    rule: AssigneeRule,
    attributes: Mapping[str, str],
    involved: Sequence[str],
) -> tuple[str, ...]:
    """Active holders of the role who meet the task's rule, in rotation order."""
    language = rule.language or (attributes.get(rule.language_from) if rule.language_from else None)
    return tuple(
        member.id
        for member in roster.members
        if member.active
        and role in member.roles
        and not (rule.not_involved and member.id in involved)
        and (language is None or language in member.languages)
        and (rule.organisation is None or member.organisation == rule.organisation)
        and (rule.partner is None or roster.is_partner(member) == rule.partner)
    )


def rotate(people: Sequence[str], *, seed: int, ordinal: int) -> str | None:
    return people[(seed + ordinal) % len(people)] if people else None


def next_in_rotation(
    holders: Sequence[str], after_whom: str | None, exclude: set[str]
) -> str | None:
    start = holders.index(after_whom) + 1 if after_whom in holders else 0
    for offset in range(len(holders)):
        candidate = holders[(start + offset) % len(holders)]
        if candidate not in exclude:
            return candidate
    return None


def ineligibility(
    roster: Roster,
    person: str,
    role: str,
    rule: AssigneeRule,
    attributes: Mapping[str, str],
    involved: Sequence[str],
) -> str | None:
    """Why `person` may not take a task of this role and rule, None if they may."""
    member = roster.member(person)
    if member is None:
        return roster.unknown_person(person)
    language = rule.language or (attributes.get(rule.language_from) if rule.language_from else None)
    reasons = [
        (not member.active, f"{person} is not active on the roster"),
        (
            role not in member.roles,
            f"{person} does not hold the role {role} (holds: {', '.join(member.roles)})",
        ),
        (rule.not_involved and person in involved, f"{person} is involved in this incident"),
        (
            language is not None and language not in member.languages,
            f"{person} does not speak {language}",
        ),
        (
            rule.organisation is not None and member.organisation != rule.organisation,
            f"{person} is not with {rule.organisation}",
        ),
        (
            rule.partner is not None and roster.is_partner(member) != rule.partner,
            f"this task is for {'partners' if rule.partner else 'staff'} only",
        ),
    ]
    return next((reason for failed, reason in reasons if failed), None)
