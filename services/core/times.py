"""Times people type: an ISO 8601 date or date and time, with or without an offset. Without
one, it is local time where it applies (a person's or the roster's time zone)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

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


_AGO = re.compile(r"^(\d{1,5})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
SINCE_EXAMPLES = f"90d, 12w, 36h, or a time such as {EXAMPLES}"


def parse_since(text: str, now: datetime, where: tzinfo) -> datetime:
    """A time to count from: a span back from `now` (`90d`, `12w`, `36h`) or a time."""
    ago = _AGO.match(text.strip().lower())
    if ago is not None:
        return now - int(ago.group(1)) * _UNITS[ago.group(2)]
    try:
        return parse_time(text, where)
    except BadTime:
        raise BadTime(
            f"--since {text!r} is neither a span nor a time; expected {SINCE_EXAMPLES}"
        ) from None
