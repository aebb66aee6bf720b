"""Where and when a notice goes: routes from the roster, what waits, what is still wanted, when
to try again, and the inbox's keys and entries. Pure, no server."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from schemas.enums import TaskStatus
from schemas.notifications import Channel, NoticeKind, QuietHours
from schemas.roster import Member
from services.notifier.inbox_keys import inbox_entry, inbox_key, person_prefix
from services.notifier.notices import RESTRICTED_TITLE
from services.notifier.policy import max_attempts, next_try, still_wanted, timed
from services.notifier.routes import ESCALATION_WEBHOOK_KEY, escalation_route, routes_of, scaled
from tests.unit.factories import T0, a_notice, a_task


def a_member(channels: list[dict[str, Any]], **fields: Any) -> Member:
    return Member.model_validate({"id": "priya.nair", "name": "Priya Nair",
                                  "roles": ["victim_advocate"], "organisation": "ecpd",
                                  "channels": channels, **fields})  # fmt: skip


EMAIL = {"kind": "email", "address": "priya@example.org"}
LATER_EMAIL = {"kind": "email", "address": "priya.home@example.org", "after": "PT10M"}
HOOK = {"kind": "webhook", "address": "https://p.example.org/h", "secret_env": "P_SECRET"}


def test_everyone_has_the_inbox_first_and_repeated_kinds_are_numbered() -> None:
    routes = routes_of(a_member([EMAIL, HOOK, LATER_EMAIL]))
    assert [r.key for r in routes] == ["inbox", "email", "webhook", "email-2"]
    assert routes[3].target is not None and routes[3].target.after == timedelta(minutes=10)
    assert routes[2].target is not None and routes[2].target.secret_ref == "P_SECRET"


def test_a_listed_inbox_keeps_its_place() -> None:
    routes = routes_of(a_member([EMAIL, {"kind": "inbox"}]))
    assert [r.key for r in routes] == ["email", "inbox"]


def test_email_is_left_out_without_a_mail_server() -> None:
    assert [r.key for r in routes_of(a_member([EMAIL, HOOK]), email=False)] == [
        "inbox",
        "webhook",
    ]


def test_a_webhook_without_a_secret_is_kept_as_unusable_so_its_failure_is_recorded() -> None:
    [_, hook] = routes_of(a_member([{"kind": "webhook", "address": "https://p.example.org/h"}]))
    assert hook.target is None and hook.problem is not None and "secret" in hook.problem


def test_the_escalation_webhook_route() -> None:
    route = escalation_route("https://hooks.example.org/e")
    assert route.key == ESCALATION_WEBHOOK_KEY and route.target is not None
    assert route.target.secret_ref == "PATHWAYS_ESCALATION_WEBHOOK_SECRET"
    assert escalation_route(None).target is None
    assert escalation_route("ftp://x").problem is not None


def test_delayed_channels_wait_the_others_go_at_once_from_the_events_time() -> None:
    no_secret = {"kind": "webhook", "address": "https://p.example.org/h"}
    routes = routes_of(a_member([EMAIL, LATER_EMAIL, no_secret]))
    now, later = timed(a_notice(), routes, None, T0)
    assert [r.key for r in now] == ["webhook", "inbox", "email"]  # the unusable one fails at once
    assert [(w.route.key, w.at) for w in later] == [("email-2", T0 + timedelta(minutes=10))]


def test_quiet_hours_hold_a_routine_reminder_but_not_the_inbox() -> None:
    night = QuietHours(start=time(0, 0), end=time(7, 0))  # T0 is 02:00 in Chicago
    routes = routes_of(a_member([EMAIL]))
    now, later = timed(a_notice(kind="reminder", time_zone="America/Chicago"), routes, night, T0)
    assert [r.key for r in now] == ["inbox"]
    assert [w.route.key for w in later] == ["email"] and later[0].at > T0
    now, later = timed(a_notice(kind="assigned"), routes, night, T0)
    assert [r.key for r in now] == ["inbox", "email"] and later == []


ASSIGNED = a_notice(kind="assigned", recipient_id="priya.nair")


@pytest.mark.parametrize(
    ("kind", "task", "wanted"),
    [
        ("assigned", a_task(), True),
        ("assigned", a_task(status=TaskStatus.ACKNOWLEDGED), False),
        ("assigned", a_task(assignee="lena.morales"), False),  # someone else's now
        ("escalated_to_you", a_task(status=TaskStatus.IN_PROGRESS), False),
        ("acknowledge_overdue", a_task(), True),
        ("acknowledge_overdue", a_task(status=TaskStatus.UNASSIGNED, assignee=None), True),
        ("acknowledge_overdue", a_task(status=TaskStatus.ACKNOWLEDGED), False),
        ("reminder", a_task(status=TaskStatus.IN_PROGRESS), True),
        ("escalation", a_task(status=TaskStatus.ACKNOWLEDGED), True),
        ("delivery_failed", a_task(status=TaskStatus.COMPLETED), False),
        ("reminder", a_task(status=TaskStatus.CANCELLED), False),
        ("escalation", None, False),
    ],
)
def test_a_send_that_waited_goes_only_while_the_task_still_needs_it(
    kind: str, task: Any, wanted: bool
) -> None:
    assert still_wanted(a_notice(kind=kind), task) is wanted


def test_a_failure_that_may_pass_is_tried_after_each_delay_then_given_up() -> None:
    delays = (1.0, 5.0)
    assert [next_try(delays, attempt, False) for attempt in (1, 2, 3)] == [1.0, 5.0, None]
    assert max_attempts(delays) == 3
    assert next_try(delays, 1, True) is None  # a permanent failure is not tried again


def test_inbox_keys_list_a_persons_notices_newest_first_and_apart_from_others() -> None:
    older = inbox_key("dana.reyes", T0, "INC-A.k.created.dana.reyes")
    newer = inbox_key("dana.reyes", T0 + timedelta(seconds=1), "INC-A.j.created.dana.reyes")
    assert sorted([older, newer]) == [newer, older]
    assert older.startswith(person_prefix("dana.reyes"))
    assert not older.startswith(person_prefix("dana"))
    assert older.endswith(".INC-A=k=created=dana=reyes")
    assert inbox_key("dana.reyes", T0, "INC-A.k.created.dana.reyes") == older  # the same notice


def test_an_inbox_entry_of_a_restricted_task_says_no_more_than_its_message() -> None:
    notice = a_notice(restricted=True, task_title=RESTRICTED_TITLE, missed_by="lena.morales")
    entry = inbox_entry(notice, "A confidential task for you", T0)
    assert entry.task_title is None and entry.incident_type is None and entry.missed_by is None
    assert entry.task_id == notice.task_id and entry.kind is NoticeKind.ASSIGNED
    plain = inbox_entry(a_notice(), "New task: Family contact", T0)
    assert plain.task_title == "Family contact" and plain.incident_type is not None


def test_channels_of_the_notifier_and_the_roster_name_the_same_kinds() -> None:
    from schemas.channels import ChannelKind

    assert {c.value for c in Channel} == {k.value for k in ChannelKind}


def test_an_exercise_scales_channel_delays_like_its_other_windows() -> None:
    routes = routes_of(a_member([EMAIL, LATER_EMAIL]))
    fast = scaled(routes, 0.001)
    assert [r.target.after for r in fast if r.target] == [
        timedelta(0),
        timedelta(0),
        timedelta(seconds=0.6),
    ]
    assert scaled(routes, 1.0) == routes
