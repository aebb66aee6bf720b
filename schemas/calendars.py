"""On-call schedules given as iCalendar (RFC 5545), such as a scheduling tool exports: an event
in progress whose summary names a member (their id or their name), or that lists them as an
attendee (by name or by one of their email addresses), puts that member on call. Recurring
events are expanded. Pure: the calendar is text, parsed once and kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from schemas.channels import ChannelKind

if TYPE_CHECKING:
    import icalendar

# icalendar and recurring-ical-events take ~0.4 s to import: they are imported when a calendar
# is first read, not by every command that reads a roster.

CALENDAR_MARKER = "BEGIN:VCALENDAR"
# A moment is asked about as a one-second window: an event covers it when it has begun and not
# yet ended.
_INSTANT = timedelta(seconds=1)


def is_inline(value: str) -> bool:
    """An `ical:` value is the calendar itself, or else a path to a file holding it."""
    return CALENDAR_MARKER in value.upper()


@lru_cache(maxsize=64)
def _parsed(text: str) -> icalendar.Calendar:
    import icalendar

    return icalendar.Calendar.from_ical(text)


def _expanded(calendar: icalendar.Calendar, start: datetime, end: datetime) -> list[Any]:
    import recurring_ical_events

    found: list[Any] = recurring_ical_events.of(calendar).between(start, end)
    return found


@lru_cache(maxsize=64)
def calendar_problem(text: str) -> str | None:
    """Why the text is not a usable iCalendar schedule, None when it is."""
    try:
        calendar = _parsed(text)
    except (ValueError, KeyError, IndexError) as exc:
        return f"not an iCalendar file: {str(exc).splitlines()[0][:200]}"
    if calendar.name != "VCALENDAR":
        return "not an iCalendar file: expected BEGIN:VCALENDAR"
    events = calendar.walk("VEVENT")
    if not events:
        return "the calendar has no events (VEVENT)"
    for event in events:
        for name, problem in getattr(event, "errors", []):
            return f"event {str(event.get('UID', '?'))[:80]}: {name}: {str(problem)[:200]}"
        if event.get("DTSTART") is None:
            return f"event {str(event.get('UID', '?'))[:80]}: DTSTART is missing"
    try:
        # Expanding a window checks what parsing leaves for later (dates, recurrence rules).
        moment = datetime(2000, 1, 1, tzinfo=UTC)
        _expanded(calendar, moment, moment + timedelta(days=1))
    except Exception as exc:  # the library raises many kinds for a broken calendar
        return f"cannot expand the calendar's events: {str(exc).splitlines()[0][:200]}"
    return None


@dataclass(frozen=True)
class Person:
    """What a calendar may call a member by."""

    id: str
    name: str
    emails: tuple[str, ...]


def people_of(members: Iterable[Any]) -> tuple[Person, ...]:
    """The roster members (schemas.roster.Member) as a calendar may name them."""
    return tuple(
        Person(
            id=m.id,
            name=m.name,
            emails=tuple(
                (c.address or "").lower() for c in m.channels if c.kind is ChannelKind.EMAIL
            ),
        )
        for m in members
    )


@dataclass(frozen=True)
class Named:
    person: str
    until: datetime | None


def _end(event: icalendar.Event) -> datetime | None:
    end = event.get("DTEND")
    if end is None:
        return None
    value = end.dt
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _attendees(event: icalendar.Event) -> list[tuple[str, str]]:
    found = event.get("ATTENDEE")
    if found is None:
        return []
    listed = found if isinstance(found, list) else [found]
    return [
        (str(a).lower().removeprefix("mailto:"), str(a.params.get("CN", "")).lower())
        for a in listed
    ]


def _mentions(summary: str, person: Person) -> bool:
    """The summary names the person: their id as a word, or their whole name."""
    words = {w.strip("._-") for w in re.findall(r"[a-z0-9][a-z0-9._-]*", summary)}
    name = re.escape(person.name.lower())
    return person.id in words or re.search(rf"(?<!\w){name}(?!\w)", summary) is not None


def named_on_call(text: str, people: tuple[Person, ...], at: datetime) -> list[Named]:
    """Members the calendar puts on call at `at`, with when their event ends, in the order of
    `people`; none when the calendar cannot be read (it was checked when the roster loaded)."""
    if calendar_problem(text) is not None:
        return []
    events = _expanded(_parsed(text), at, at + _INSTANT)
    found: dict[str, datetime | None] = {}
    for event in events:
        summary = str(event.get("SUMMARY", "")).lower()
        attendees = _attendees(event)
        for person in people:
            listed = any(
                email in person.emails or (name and name == person.name.lower())
                for email, name in attendees
            )
            if listed or _mentions(summary, person):
                found.setdefault(person.id, _end(event))
    return [Named(p.id, found[p.id]) for p in people if p.id in found]
