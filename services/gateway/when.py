"""Times as the console shows them: always in UTC and saying so, or relative to now ("due in
25 min", "2 h 5 min overdue"), and playbook windows as people say them ("within 2 h")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc(moment: datetime | None) -> str:
    """`2026-05-01 14:05 UTC`; an em dash when there is no time."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def span(delta: timedelta) -> str:
    """A length of time in words, to the minute: `3 d 4 h`, `2 h 5 min`, `25 min`."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "less than a minute"


def relative(moment: datetime | None, now: datetime, what: str = "due") -> str:
    """`due in 25 min`, or `overdue by 1 h 5 min` once the moment has passed."""
    if moment is None:
        return "no deadline yet"
    if moment >= now:
        return f"{what} in {span(moment - now)}"
    return f"overdue by {span(now - moment)}"


def within(window: timedelta) -> str:
    """A playbook window: `within 2 h`, `within 30 min`, `within 7 d`."""
    return f"within {span(window)}" if window > timedelta(0) else "at once"


def since(moment: datetime, start: datetime) -> str:
    """`T+01:05`: hours and minutes from the start (of an incident); `T-00:02` before it."""
    delta = moment - start
    sign = "+" if delta >= timedelta(0) else "-"
    minutes = int(abs(delta).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"T{sign}{hours:02d}:{minutes:02d}"


def utc_now() -> datetime:
    return datetime.now(UTC)
