"""Checks of the roles' on-call schedules against the rest of the roster: everyone a rotation
or an override names holds the role, a calendar reads, a policy has what it needs. Each issue
is (field path, message), so a file's problems are reported with their line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from schemas.calendars import calendar_problem, is_inline
from schemas.oncall import AssignmentPolicy, HandOff, OnCall
from schemas.suggest import unknown

if TYPE_CHECKING:
    from schemas.roster import Roster

FieldPath = tuple[str | int, ...]
Issue = tuple[FieldPath, str]


def on_call_issues(roster: Roster) -> list[Issue]:
    issues: list[Issue] = []
    for index, role in enumerate(roster.roles):
        where: FieldPath = ("roles", index)
        scheduled = role.on_call is not None and role.on_call.scheduled
        if role.policy is AssignmentPolicy.ON_CALL_FIRST and not scheduled:
            issues.append(
                (
                    (*where, "policy"),
                    f"role {role.id}: on_call_first needs an on_call schedule "
                    "(a rotation, overrides or ical)",
                )
            )
        if role.on_call is not None:
            issues += [
                ((*where, "on_call", *path), f"role {role.id}: {message}")
                for path, message in _schedule_issues(roster, role.id, role.on_call)
            ]
    return issues


def _schedule_issues(roster: Roster, role_id: str, schedule: OnCall) -> Iterator[Issue]:
    rotation = schedule.rotation
    if rotation is not None:
        for index, person in enumerate(rotation.members):
            problem = _not_a_holder(roster, role_id, person)
            if problem:
                yield ("rotation", "members", index), problem
        if rotation.day is not None and rotation.hand_off is HandOff.DAILY:
            yield ("rotation", "day"), "day is for weekly hand-offs; a daily one has none"
    for index, override in enumerate(schedule.overrides):
        problem = _not_a_holder(roster, role_id, override.person)
        if problem:
            yield ("overrides", index, "person"), problem
    if schedule.ical is not None:
        if not is_inline(schedule.ical):
            yield (
                ("ical",),
                "expected the calendar itself (BEGIN:VCALENDAR...); a file path is read only "
                "from a roster file",
            )
        elif (problem := calendar_problem(schedule.ical)) is not None:
            yield ("ical",), problem


def _not_a_holder(roster: Roster, role_id: str, person: str) -> str | None:
    member = roster.member(person)
    if member is None:
        return unknown("member", person, [m.id for m in roster.members])
    declared = {r.id for r in roster.roles}
    if any(r not in declared for r in member.roles):
        return None  # a mistyped role of theirs is reported on the member, once
    if role_id not in member.roles:
        return f"{person} does not hold the role {role_id}"
    return None
