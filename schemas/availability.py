"""Who is on call for a role, and who is available, at a given moment. Pure.

Three things decide, strongest first: a person away (recorded with `pathways roster away`) is
never on call nor offered anything; an override in force puts its person on call instead of the
schedule; otherwise the rotation's holder and the people the iCalendar schedule names are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from schemas.base import Contract, PersonId, UtcDateTime
from schemas.calendars import named_on_call, people_of
from schemas.oncall import AssignmentPolicy, aware, overriding, shift_at, zone
from schemas.roster import RoleDefinition, Roster

# Away periods are kept while they last or are to come; at most this many at once.
MAX_AWAY_PERIODS = 2000


class AwayPeriod(Contract):
    person: PersonId
    starts: UtcDateTime
    until: UtcDateTime
    recorded_by: PersonId
    recorded_at: UtcDateTime

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> AwayPeriod:
        if self.until <= self.starts:
            raise ValueError("until must be after from")
        return self

    def covers(self, at: datetime) -> bool:
        return self.starts <= at < self.until


class AwayRecords(Contract):
    """Every away period not yet over: the value of the roster bucket's `away` key."""

    periods: tuple[AwayPeriod, ...] = Field(default=(), max_length=MAX_AWAY_PERIODS)


def away_at(periods: Iterable[AwayPeriod], person: str, at: datetime) -> AwayPeriod | None:
    return next((p for p in periods if p.person == person and p.covers(at)), None)


def still_relevant(periods: Iterable[AwayPeriod], now: datetime) -> tuple[AwayPeriod, ...]:
    """The periods that have not ended: what is worth keeping."""
    return tuple(p for p in periods if p.until > now)


class OnCallSource(StrEnum):
    OVERRIDE = "override"
    ROTATION = "rotation"
    CALENDAR = "calendar"


@dataclass(frozen=True)
class OnCallEntry:
    person: str
    source: OnCallSource
    until: datetime | None  # when this stint ends, when known


def policy_of(
    role: RoleDefinition | None, schedule: RoleDefinition | None = None
) -> AssignmentPolicy:
    """The role's assignment policy: as declared, else on_call_first when there is an on-call
    schedule (in `schedule`, the role as the live roster has it, else in `role`), else rotation."""
    if role is not None and role.policy is not None:
        return role.policy
    scheduled = schedule or role
    if scheduled is not None and scheduled.on_call is not None and scheduled.on_call.scheduled:
        return AssignmentPolicy.ON_CALL_FIRST
    return AssignmentPolicy.ROTATION


def on_call(roster: Roster, role_id: str, at: datetime) -> tuple[OnCallEntry, ...]:
    """Who the role's schedule puts on call at `at` (away or not), each person once: the
    overrides in force, else the rotation's holder then the people the calendar names."""
    role = roster.role(role_id)
    if role is None or role.on_call is None:
        return ()
    schedule = role.on_call
    rotation = schedule.rotation
    where = zone(rotation.time_zone if rotation and rotation.time_zone else roster.time_zone)
    overrides = overriding(schedule.overrides, at, where)
    if overrides:
        found = [
            OnCallEntry(o.person, OnCallSource.OVERRIDE, aware(o.until, where)) for o in overrides
        ]
    else:
        found = []
        shift = shift_at(rotation, at, roster.time_zone) if rotation else None
        if shift is not None:
            found.append(OnCallEntry(shift.holder, OnCallSource.ROTATION, shift.ends))
        if schedule.ical is not None:
            holders = [m for m in roster.members if role_id in m.roles]
            found += [
                OnCallEntry(n.person, OnCallSource.CALENDAR, n.until)
                for n in named_on_call(schedule.ical, people_of(holders), at)
            ]
    unique: dict[str, OnCallEntry] = {}
    for entry in found:
        unique.setdefault(entry.person, entry)
    return tuple(unique.values())


@dataclass(frozen=True)
class Duty:
    """A role at a moment: who is on call and free, who else could take a task, who is away."""

    role: str
    at: datetime
    policy: AssignmentPolicy
    on_call: tuple[OnCallEntry, ...]  # on call and not away, active
    available: tuple[str, ...]  # active holders not away: those on call first, then in turn
    away: tuple[AwayPeriod, ...]  # holders away at `at`
    inactive: tuple[str, ...]


def duty(roster: Roster, role_id: str, at: datetime, away: Iterable[AwayPeriod]) -> Duty:
    periods = tuple(away)
    holders = [m for m in roster.members if role_id in m.roles]
    active = [m.id for m in holders if m.active]
    gone = {m: p for m in active if (p := away_at(periods, m, at)) is not None}
    free = [m for m in active if m not in gone]
    on = tuple(e for e in on_call(roster, role_id, at) if e.person in free)
    first = [e.person for e in on]
    return Duty(
        role=role_id,
        at=at,
        policy=policy_of(roster.role(role_id)),
        on_call=on,
        available=(*first, *(m for m in free if m not in first)),
        away=tuple(gone.values()),
        inactive=tuple(m.id for m in holders if not m.active),
    )
