"""Times people type: an ISO 8601 date or date and time, with or without an offset. Without
one, it is local time where it applies (a person's or the roster's time zone)."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

EXAMPLES = "2026-11-23, 2026-11-23T08:00 or 2026-11-23T08:00-06:00"


class BadTime(ValueError):
    pass


def parse_time(text: str, where: tzinfo) -> datetime:
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(value), time(0))
        except ValueError:
            raise BadTime(f"{text!r} is not a time; expected {EXAMPLES}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=where)
