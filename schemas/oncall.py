"""On-call schedules of a role, as the roster declares them, and who they put on call at a given
moment. Pure: times in, people out.

A role's `on_call` may have a rotation (its members take turns, handing off daily or weekly at a
local time), overrides (a person covers from one time until another, whatever the rotation
says) and an iCalendar schedule (schemas/calendars.py). While an override lasts it decides alone;
otherwise the rotation's holder and whoever the calendar names are on call.

Hand-offs happen at the local wall-clock time in the rotation's time zone, so a daily 08:00
hand-off stays at 08:00 across daylight-saving changes (that shift is an hour shorter or longer).
A local time a spring-forward change skips (02:30) is taken at the offset before the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from schemas.base import Contract, PersonId
from schemas.zones import TimeZoneName

# Shifts of a rotation without a start date count from here (a Monday), so every replica and
# every run agrees on whose turn it is.
EPOCH = date(2024, 1, 1)
MAX_CALENDAR_CHARS = 500_000


class AssignmentPolicy(StrEnum):
    ON_CALL_FIRST = "on_call_first"  # whoever is on call, then the others in rotation order
    ROTATION = "rotation"  # round the holders, each incident starting somewhere else
    LEAST_LOADED = "least_loaded"  # the holder with the fewest open tasks


class HandOff(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)


def _clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 8:00 as the sexagesimal number 480: minutes since midnight.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    return value


def _date_is_midnight(value: Any) -> Any:
    # A bare date (YAML reads 2026-11-20 as one) means the start of that local day.
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0))
    return value


class Rotation(Contract):
    members: tuple[PersonId, ...] = Field(min_length=1, description="In the order of their turns")
    hand_off: HandOff
    at: time = Field(default=time(8, 0), description="Local time of the hand-off, e.g. '08:00'")
    day: Weekday | None = Field(
        default=None, description="Weekly: the day of the hand-off (default: start's, or Monday)"
    )
    time_zone: TimeZoneName | None = Field(default=None, description="Default: the roster's")
    start: date | None = Field(
        default=None, description="The first shift's date (the first member's); none before it"
    )

    _at_from_minutes = field_validator("at", mode="before")(_clock_time)

    @property
    def step(self) -> int:
        return 1 if self.hand_off is HandOff.DAILY else 7

    def anchor(self) -> date:
        """The date of the first shift: the start (or EPOCH), moved on to the hand-off day."""
        first = self.start or EPOCH
        if self.hand_off is HandOff.DAILY:
            return first
        default = Weekday(list(Weekday)[first.weekday()]) if self.start else Weekday.MONDAY
        day = (self.day or default).number
        return first + timedelta(days=(day - first.weekday()) % 7)


class Override(Contract):
    person: PersonId
    starts: datetime = Field(validation_alias="from", serialization_alias="from")
    until: datetime

    _starts_day = field_validator("starts", "until", mode="before")(_date_is_midnight)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Override:
        both_aware = self.starts.tzinfo is not None and self.until.tzinfo is not None
        both_naive = self.starts.tzinfo is None and self.until.tzinfo is None
        if (both_aware or both_naive) and self.until <= self.starts:
            raise ValueError("until must be after from")
        return self


class OnCall(Contract):
    rotation: Rotation | None = None
    overrides: tuple[Override, ...] = ()
    ical: str | None = Field(
        default=None,
        max_length=MAX_CALENDAR_CHARS,
        description="An iCalendar schedule: its text, or a file path relative to the roster",
    )

    @property
    def scheduled(self) -> bool:
        return self.rotation is not None or bool(self.overrides) or self.ical is not None


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def aware(moment: datetime, where: tzinfo) -> datetime:
    """A time as written in a roster (without an offset it is local time where it applies), in
    UTC."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=where)).astimezone(UTC)


@dataclass(frozen=True)
class Shift:
    holder: str
    number: int  # counted from the rotation's anchor; negative before it (no start date)
    starts: datetime
    ends: datetime


def hand_off_time(rotation: Rotation, day: date, where: tzinfo) -> datetime:
    # In UTC: Python compares and subtracts two times of one zone by their wall clocks, which
    # is wrong across a daylight-saving change.
    return datetime.combine(day, rotation.at, tzinfo=where).astimezone(UTC)


def shift_at(rotation: Rotation, at: datetime, default_zone: str) -> Shift | None:
    """The shift of the rotation at `at`; None before a rotation's start date."""
    where = zone(rotation.time_zone or default_zone)
    anchor = rotation.anchor()
    step = timedelta(days=rotation.step)

    def begins(number: int) -> datetime:
        return hand_off_time(rotation, anchor + number * step, where)

    number = (at.astimezone(where).date() - anchor).days // rotation.step
    while begins(number) > at:
        number -= 1
    while begins(number + 1) <= at:
        number += 1
    if rotation.start is not None and number < 0:
        return None
    holder = rotation.members[number % len(rotation.members)]
    return Shift(holder, number, begins(number), begins(number + 1))


def overriding(overrides: tuple[Override, ...], at: datetime, where: tzinfo) -> list[Override]:
    """The overrides in force at `at`, in the order the roster lists them."""
    return [o for o in overrides if aware(o.starts, where) <= at < aware(o.until, where)]
