"""How the console words times and orders and offers tasks: pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.enums import TaskStatus, Tier
from schemas.tasks import TaskSnapshot
from services.gateway.markdown import rendered
from services.gateway.my_tasks import most_urgent_first, row
from services.gateway.task_actions import Verb, verbs_for
from services.gateway.when import relative, since, utc, within

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def task(
    key: str, status: TaskStatus, due_in: timedelta | None, assignee: str | None
) -> TaskSnapshot:
    due = NOW + due_in if due_in is not None else None
    return TaskSnapshot(
        task_id=f"INC-AAAAAAAA.{key}",
        incident_id="INC-AAAAAAAA",
        key=key,
        title=key,
        role="peer_support",
        tier=Tier.COMMAND,
        required=True,
        status=status,
        assignee=assignee,
        acknowledge_by=due,
        due_by=due,
    )


def test_times_are_utc_relative_and_from_the_incident() -> None:
    assert utc(NOW) == "2026-05-01 12:00 UTC"
    assert relative(NOW + timedelta(minutes=25), NOW) == "due in 25 min"
    assert relative(NOW - timedelta(hours=1, minutes=5), NOW) == "overdue by 1 h 5 min"
    assert within(timedelta(hours=2)) == "within 2 h"
    assert since(NOW + timedelta(hours=26, minutes=3), NOW) == "T+26:03"


def test_overdue_tasks_come_first_then_the_nearest_deadline() -> None:
    tasks = [
        task("later", TaskStatus.ASSIGNED, timedelta(hours=5), "aisha.grant"),
        task("waiting", TaskStatus.WAITING, None, "aisha.grant"),
        task("soon", TaskStatus.ACKNOWLEDGED, timedelta(minutes=10), "aisha.grant"),
        task("late", TaskStatus.ASSIGNED, timedelta(minutes=-3), "aisha.grant"),
    ]
    ordered = most_urgent_first([row(t, "aisha.grant", NOW) for t in tasks])
    assert [r.task.key for r in ordered] == ["late", "soon", "later", "waiting"]
    assert ordered[0].overdue and ordered[0].step is Verb.ACKNOWLEDGE
    assert ordered[1].step is Verb.START


def test_only_the_assignee_is_offered_the_verbs_and_role_holders_claim() -> None:
    mine = task("mine", TaskStatus.ACKNOWLEDGED, timedelta(hours=1), "aisha.grant")
    roles = frozenset({"peer_support"})
    assert verbs_for(mine, "aisha.grant", roles) == (Verb.START, Verb.COMPLETE, Verb.DECLINE)
    assert verbs_for(mine, "tom.kowalski", roles) == ()
    pool = task("pool", TaskStatus.UNASSIGNED, timedelta(hours=1), None)
    assert verbs_for(pool, "tom.kowalski", roles) == (Verb.CLAIM,)
    assert verbs_for(pool, "priya.nair", frozenset({"victim_advocate"})) == ()


def test_markdown_keeps_no_raw_html() -> None:
    html = rendered("**Go** <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>Go</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
