"""On-call schedules: rotations hand off at their local time (across daylight-saving changes
too), overrides beat rotations, away beats everything, calendars name who is on call."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.availability import AwayPeriod, OnCallSource, duty, on_call, policy_of
from schemas.calendars import calendar_problem
from schemas.oncall import AssignmentPolicy, HandOff, Rotation, Weekday, shift_at
from schemas.roster import Roster

CHICAGO = ZoneInfo("America/Chicago")
ZONES = ["America/Chicago", "Europe/Paris", "Australia/Sydney", "UTC", "Asia/Kolkata"]


def rotation(**changes: object) -> Rotation:
    fields: dict[str, object] = {"members": ["a", "b", "c"], "hand_off": "daily", "at": "08:00"}
    return Rotation.model_validate({**fields, **changes})


def member(person: str, *roles: str, **more: object) -> dict[str, object]:
    return {
        "id": person,
        "name": person.title(),
        "roles": list(roles),
        "organisation": "pd",
        **more,
    }


def roster(on_call: Mapping[str, object] | None = None, **role: object) -> Roster:
    advocates: dict[str, object] = {
        "id": "victim_advocate",
        "title": "Advocate",
        "family": "victim_advocate",
    }
    if on_call is not None:
        advocates["on_call"] = on_call
    return Roster.model_validate(
        {
            "agency": "PD",
            "time_zone": "America/Chicago",
            "roles": [{**advocates, **role}],
            "members": [member(p, "victim_advocate") for p in ("a", "b", "c")],
        }
    )


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def test_a_daily_rotation_hands_off_at_its_local_time() -> None:
    daily = rotation(start="2026-11-01")
    assert shift_at(daily, local(2026, 11, 1, 7, 59), "America/Chicago") is None  # before it
    first = shift_at(daily, local(2026, 11, 1, 8, 0), "America/Chicago")
    assert first is not None and (first.holder, first.number) == ("a", 0)
    assert first.ends == local(2026, 11, 2, 8, 0)
    later = shift_at(daily, local(2026, 11, 4, 7, 59), "America/Chicago")
    assert later is not None and later.holder == "c"
    assert shift_at(daily, local(2026, 11, 4, 8, 0), "America/Chicago").holder == "a"  # type: ignore[union-attr]


def test_a_weekly_rotation_hands_off_on_its_day() -> None:
    weekly = rotation(hand_off="weekly", day="monday", start="2026-01-05")
    friday = shift_at(weekly, local(2026, 11, 20, 12, 0), "America/Chicago")
    monday = shift_at(weekly, local(2026, 11, 23, 8, 0), "America/Chicago")
    assert friday is not None and monday is not None
    assert monday.number == friday.number + 1
    assert friday.ends == monday.starts == local(2026, 11, 23, 8, 0)
    assert monday.starts.weekday() == 0


def test_hand_offs_stay_at_local_time_across_daylight_saving_changes() -> None:
    daily = rotation(time_zone="America/Chicago")
    # 2026-03-08: clocks go forward at 02:00, so 08:00 is 13:00 UTC instead of 14:00.
    before = shift_at(daily, datetime(2026, 3, 7, 15, tzinfo=UTC), "UTC")
    spring = shift_at(daily, datetime(2026, 3, 8, 13, 30, tzinfo=UTC), "UTC")
    assert before is not None and spring is not None
    assert before.starts == datetime(2026, 3, 7, 14, tzinfo=UTC)
    assert spring.starts == datetime(2026, 3, 8, 13, tzinfo=UTC)
    assert spring.starts - before.starts == timedelta(hours=23)  # the short day
    # 2026-11-01: clocks go back; that day's shift lasts 25 hours.
    autumn = shift_at(daily, datetime(2026, 11, 1, 10, tzinfo=UTC), "UTC")
    assert autumn is not None and autumn.ends - autumn.starts == timedelta(hours=25)


def test_a_hand_off_at_a_skipped_local_time_happens_once_that_day() -> None:
    daily = rotation(at="02:30", time_zone="America/Chicago")
    shift = shift_at(daily, datetime(2026, 3, 8, 12, tzinfo=UTC), "UTC")
    assert shift is not None and shift.starts.astimezone(CHICAGO).date() == date(2026, 3, 8)
    assert shift.starts.astimezone(CHICAGO).time() == time(3, 30)


def test_an_unquoted_yaml_time_reads_as_a_time() -> None:
    assert rotation(at=8 * 60).at == time(8, 0)  # YAML 1.1 reads 8:00 as 480


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC)
)
rotations = st.builds(
    lambda kind, at, zone, size, day: Rotation(
        members=tuple(f"p{i}" for i in range(size)),
        hand_off=kind,
        at=at,
        time_zone=zone,
        day=day if kind is HandOff.WEEKLY else None,
    ),
    st.sampled_from(HandOff),
    st.times(),
    st.sampled_from(ZONES),
    st.integers(min_value=1, max_value=5),
    st.sampled_from(Weekday),
)


@settings(max_examples=300, deadline=None)
@given(rotations, instants)
def test_every_moment_is_in_exactly_one_shift_and_the_next_member_follows(
    turns: Rotation, moment: datetime
) -> None:
    shift = shift_at(turns, moment, "UTC")
    assert shift is not None
    assert shift.starts <= moment < shift.ends
    following = shift_at(turns, shift.ends, "UTC")
    assert following is not None and following.number == shift.number + 1
    assert following.starts == shift.ends
    size = len(turns.members)
    assert following.holder == turns.members[(turns.members.index(shift.holder) + 1) % size]
    where = ZoneInfo(turns.time_zone or "UTC")
    days = (following.starts.astimezone(where).date() - shift.starts.astimezone(where).date()).days
    assert days == turns.step
    if turns.hand_off is HandOff.WEEKLY and turns.day is not None:
        assert shift.starts.astimezone(where).weekday() == turns.day.number


def test_an_override_beats_the_rotation_while_it_lasts() -> None:
    schedule = {
        "rotation": {"members": ["a", "b"], "hand_off": "weekly", "at": "08:00"},
        "overrides": [{"person": "c", "from": "2026-12-24T17:00", "until": "2026-12-28"}],
    }
    advocates = roster(schedule)
    during = on_call(advocates, "victim_advocate", local(2026, 12, 25, 12, 0))
    assert [(e.person, e.source) for e in during] == [("c", OnCallSource.OVERRIDE)]
    assert during[0].until == local(2026, 12, 28, 0, 0)
    after = on_call(advocates, "victim_advocate", local(2026, 12, 28, 9, 0))
    assert [e.source for e in after] == [OnCallSource.ROTATION]


def test_someone_away_is_neither_on_call_nor_available_even_on_an_override() -> None:
    schedule = {"overrides": [{"person": "b", "from": "2026-11-01", "until": "2026-12-01"}]}
    moment = local(2026, 11, 21, 12, 0)
    away = AwayPeriod(
        person="b",
        starts=moment - timedelta(days=1),
        until=moment + timedelta(days=1),
        recorded_by="b",
        recorded_at=moment,
    )
    found = duty(roster(schedule), "victim_advocate", moment, [away])
    assert found.on_call == () and "b" not in found.available
    assert [p.person for p in found.away] == ["b"]
    back = duty(roster(schedule), "victim_advocate", moment + timedelta(days=2), [away])
    assert [e.person for e in back.on_call] == ["b"] and back.available[0] == "b"


CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Pathways tests//EN
BEGIN:VEVENT
UID:advocates-1
DTSTART;TZID=America/Chicago:20261116T080000
DTEND;TZID=America/Chicago:20261123T080000
RRULE:FREQ=WEEKLY;INTERVAL=2
SUMMARY:Advocate on call: b
END:VEVENT
BEGIN:VEVENT
UID:advocates-2
DTSTART;TZID=America/Chicago:20261123T080000
DTEND;TZID=America/Chicago:20261130T080000
RRULE:FREQ=WEEKLY;INTERVAL=2
SUMMARY:Advocate on call
ATTENDEE;CN=C:mailto:c@example.org
END:VEVENT
END:VCALENDAR
"""


def test_a_calendar_names_who_is_on_call_by_id_or_attendee() -> None:
    with_calendar = roster({"ical": CALENDAR}).model_copy()
    first = on_call(with_calendar, "victim_advocate", local(2026, 11, 20, 12, 0))
    assert [(e.person, e.source) for e in first] == [("b", OnCallSource.CALENDAR)]
    assert first[0].until == local(2026, 11, 23, 8, 0)
    second = on_call(with_calendar, "victim_advocate", local(2026, 12, 10, 12, 0))
    assert [e.person for e in second] == ["c"]  # the attendee, in the recurring event
    assert on_call(with_calendar, "victim_advocate", local(2026, 11, 23, 8, 0))[0].person == "c"


def test_a_broken_calendar_is_a_problem_in_one_sentence() -> None:
    assert calendar_problem(CALENDAR) is None
    assert "not an iCalendar" in (calendar_problem("BEGIN:VCALENDAR\nnot a line\n") or "")
    broken = CALENDAR.replace("DTSTART;TZID=America/Chicago:20261116T080000", "DTSTART:never")
    assert calendar_problem(broken) is not None


def test_the_policy_is_on_call_first_with_a_schedule_and_rotation_without() -> None:
    scheduled = roster({"rotation": {"members": ["a"], "hand_off": "daily"}})
    assert policy_of(scheduled.role("victim_advocate")) is AssignmentPolicy.ON_CALL_FIRST
    assert policy_of(roster().role("victim_advocate")) is AssignmentPolicy.ROTATION
    least = roster(policy="least_loaded").role("victim_advocate")
    assert policy_of(least) is AssignmentPolicy.LEAST_LOADED


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        (
            {"rotation": {"members": ["a", "zed"], "hand_off": "daily"}},
            "unknown member 'zed'",
        ),
        ({"overrides": [{"person": "a", "from": "2026-01-02", "until": "2026-01-01"}]}, "until"),
        ({"rotation": {"members": ["a"], "hand_off": "daily", "day": "monday"}}, "weekly"),
        ({"ical": "BEGIN:VCALENDAR\nEND:VCALENDAR\n"}, "no events"),
        ({"ical": "calendars/advocates.ics"}, "a file path is read only from a roster file"),
    ],
)
def test_schedules_that_cannot_work_are_refused(
    schedule: Mapping[str, object], problem: str
) -> None:
    with pytest.raises(Exception, match=problem):
        roster(schedule)


def test_on_call_first_without_a_schedule_is_refused() -> None:
    with pytest.raises(Exception, match="on_call_first needs an on_call schedule"):
        roster(policy="on_call_first")
