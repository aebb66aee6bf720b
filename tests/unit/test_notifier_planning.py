from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from schemas.notifications import Channel, NoticeKind, QuietHours, Target
from services.notifier.planning import in_quiet_hours, plan, quiet_until
from tests.unit.factories import a_notice

CHICAGO = ZoneInfo("America/Chicago")
NIGHT = QuietHours(start=time(22, 0), end=time(7, 0))
INBOX = Target(kind=Channel.INBOX)
EMAIL = Target(kind=Channel.EMAIL)
SMS = Target(kind=Channel.APPRISE, secret_ref="priya-sms", after=timedelta(minutes=10))
HOOK = Target(kind=Channel.WEBHOOK, address="https://partner.example.org/hook", secret_ref="p")


def chicago(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


def test_channels_come_in_the_persons_order_after_their_delays() -> None:
    now = chicago(2026, 3, 3, 12, 0)
    sends = plan(a_notice(), [INBOX, SMS, EMAIL], None, now)
    assert [(s.channel, s.not_before) for s in sends] == [
        (Channel.INBOX, now),
        (Channel.EMAIL, now),
        (Channel.APPRISE, now + timedelta(minutes=10)),
    ]
    assert all(s.not_before.tzinfo is UTC for s in sends)


def test_a_channel_listed_twice_is_planned_once() -> None:
    sends = plan(a_notice(), [EMAIL, INBOX, EMAIL], None, chicago(2026, 3, 3, 12, 0))
    assert [s.channel for s in sends] == [Channel.EMAIL, Channel.INBOX]


def test_quiet_hours_hold_a_routine_reminder_until_they_end_but_not_the_inbox() -> None:
    now = chicago(2026, 3, 3, 23, 30)
    sends = plan(a_notice(kind="reminder"), [INBOX, EMAIL, SMS, HOOK], NIGHT, now)
    morning = chicago(2026, 3, 4, 7, 0)
    assert [(s.channel, s.not_before) for s in sends] == [
        (Channel.INBOX, now),
        (Channel.EMAIL, morning),
        (Channel.APPRISE, morning),
        (Channel.WEBHOOK, morning),
    ]


def test_quiet_hours_hold_a_delayed_send_that_would_land_in_them() -> None:
    sends = plan(a_notice(kind="reminder"), [EMAIL, SMS], NIGHT, chicago(2026, 3, 3, 21, 55))
    assert [s.not_before for s in sends] == [
        chicago(2026, 3, 3, 21, 55),
        chicago(2026, 3, 4, 7, 0),
    ]


def test_quiet_hours_never_hold_an_urgent_reminder() -> None:
    now = chicago(2026, 3, 3, 23, 30)
    sends = plan(a_notice(kind="reminder", urgent=True), [EMAIL, SMS], NIGHT, now)
    assert [s.not_before for s in sends] == [now, now + timedelta(minutes=10)]


@pytest.mark.parametrize("kind", [k for k in NoticeKind if k is not NoticeKind.REMINDER])
def test_quiet_hours_never_hold_anything_but_a_reminder(kind: NoticeKind) -> None:
    now = chicago(2026, 3, 3, 2, 0)
    sends = plan(a_notice(kind=kind), [EMAIL], NIGHT, now)
    assert [s.not_before for s in sends] == [now]


def test_quiet_hours_are_read_in_the_recipients_zone() -> None:
    now = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 23:00 the day before in Chicago, 06:00 in Madrid
    in_chicago = plan(a_notice(kind="reminder"), [EMAIL], NIGHT, now)
    in_madrid = plan(a_notice(kind="reminder", time_zone="Europe/Madrid"), [EMAIL], NIGHT, now)
    assert in_chicago[0].not_before == chicago(2026, 3, 3, 7, 0)
    assert in_madrid[0].not_before == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 07:00 CET


def test_outside_quiet_hours_nothing_waits() -> None:
    now = chicago(2026, 3, 3, 7, 0)
    assert plan(a_notice(kind="reminder"), [EMAIL], NIGHT, now)[0].not_before == now


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 30))
    assert in_quiet_hours(time(12, 0), lunch) and not in_quiet_hours(time(13, 30), lunch)
    assert not in_quiet_hours(time(23, 0), lunch)
    sends = plan(a_notice(kind="reminder"), [EMAIL], lunch, chicago(2026, 3, 3, 12, 45))
    assert sends[0].not_before == chicago(2026, 3, 3, 13, 30)


def test_quiet_hours_ending_in_the_hour_clocks_go_back_end_at_its_first_pass() -> None:
    # 1 November 2026 in Chicago: 01:00-02:00 CDT, then 01:00-02:00 CST again.
    early = QuietHours(start=time(0, 30), end=time(1, 30))
    first_pass = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 CDT
    assert quiet_until(first_pass, early, CHICAGO) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    second_pass = datetime(2026, 11, 1, 7, 10, tzinfo=UTC)  # 01:10 CST
    assert quiet_until(second_pass, early, CHICAGO) == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


def test_now_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        plan(a_notice(), [EMAIL], None, datetime(2026, 3, 3, 12, 0))


ZONES = [
    "UTC",
    "America/Chicago",
    "Europe/Madrid",
    "Asia/Kolkata",
    "America/St_Johns",
    "Australia/Lord_Howe",  # clocks move by half an hour
    "Pacific/Chatham",
]
minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
windows = st.tuples(minutes, minutes).filter(lambda w: w[0] != w[1])
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ZONES), windows, moments)
@example("America/Chicago", (time(1, 0), time(2, 30)), datetime(2026, 3, 8, 7, 45, tzinfo=UTC))
def test_quiet_until_is_the_first_moment_outside_quiet_hours(
    zone_name: str, window: tuple[time, time], at: datetime
) -> None:
    zone = ZoneInfo(zone_name)
    quiet = QuietHours(start=window[0], end=window[1])
    result = quiet_until(at, quiet, zone)
    assert result >= at
    assert result - at <= timedelta(hours=25)
    assert not in_quiet_hours(result.astimezone(zone).time(), quiet)
    assert quiet_until(result, quiet, zone) == result
    if not in_quiet_hours(at.astimezone(zone).time(), quiet):
        assert result == at
    elif at.astimezone(zone).utcoffset() == result.astimezone(zone).utcoffset():
        # No clock change in between: a second earlier was still quiet.
        before = result - timedelta(seconds=1)
        assert in_quiet_hours(before.astimezone(zone).time(), quiet)
