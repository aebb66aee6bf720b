"""When to send a notice through each of a person's channels, as pure functions.

A person lists channels in the order they want to be reached, each after a delay (inbox and
email at once, a text message ten minutes on if the task is still not acknowledged; whoever
sends checks that at the time). Quiet hours hold back only reminders that are not urgent — the
routine check-ins of follow-ups — and never the inbox, which disturbs nobody."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schemas.notifications import Channel, Notice, NoticeKind, QuietHours, Target

# For someone who has listed no channels of their own.
DEFAULT_TARGETS = (Target(kind=Channel.INBOX), Target(kind=Channel.EMAIL))


@dataclass(frozen=True)
class PlannedSend:
    target: Target
    not_before: datetime  # UTC

    @property
    def channel(self) -> Channel:
        return self.target.kind


def in_quiet_hours(local: time, quiet: QuietHours) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # spans midnight


def quiet_until(at: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    """The first moment at or after `at` outside quiet hours, in UTC.

    Quiet hours ending in the hour a clock skips (02:30 on the night clocks go forward) end at
    that wall time read before the change, up to an hour later than the clock shows it."""
    local = at.astimezone(zone)
    if not in_quiet_hours(local.time(), quiet):
        return at.astimezone(UTC)
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)
    # A wall time that occurs twice (clocks going back) is tried at its first occurrence first.
    # (Compared in UTC: two times in the same zone compare by wall time, ignoring the fold.)
    start = at.astimezone(UTC)
    for fold in (0, 1):
        end = datetime.combine(day, quiet.end, tzinfo=zone).replace(fold=fold).astimezone(UTC)
        if end > start and not in_quiet_hours(end.astimezone(zone).time(), quiet):
            return end
    raise AssertionError("quiet hours end within a day")  # pragma: no cover


def plan(
    notice: Notice,
    channels: Sequence[Target],
    quiet_hours: QuietHours | None,
    now: datetime,
) -> list[PlannedSend]:
    """Each channel once, in the order to try them, with the earliest moment to send."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    zone = ZoneInfo(notice.time_zone)
    holds = notice.kind is NoticeKind.REMINDER and not notice.urgent
    sends: list[PlannedSend] = []
    seen: set[tuple[Channel, str | None, str | None]] = set()
    for target in channels:
        key = (target.kind, target.address, target.secret_ref)
        if key in seen:
            continue
        seen.add(key)
        at = now + target.after
        if holds and quiet_hours is not None and target.kind is not Channel.INBOX:
            at = quiet_until(at, quiet_hours, zone)
        sends.append(PlannedSend(target=target, not_before=at.astimezone(UTC)))
    return sorted(sends, key=lambda send: send.not_before)
