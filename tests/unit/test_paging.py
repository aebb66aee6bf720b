"""Index keys sort as lists do; cursors round-trip; a page stops at its limit or its bytes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.enums import TaskStatus
from services.core import indexes
from services.core.errors import Refused
from services.core.paging import Cursor, PageBuilder, decode_cursor, encode_cursor
from tests.unit.factories import T0, a_task


def test_newer_incidents_sort_first() -> None:
    older = indexes.incident_key("INC-BBBBBBBB", T0)
    newer = indexes.incident_key("INC-AAAAAAAA", T0 + timedelta(microseconds=1))
    assert sorted([older, newer]) == [newer, older]


def test_tasks_sort_by_deadline_and_those_without_one_last() -> None:
    rank = indexes.newest_first(T0)
    soon = indexes.task_position(rank, a_task(key="b", acknowledge_by=T0))
    later = indexes.task_position(rank, a_task(key="a", acknowledge_by=T0 + timedelta(hours=1)))
    waiting = indexes.task_position(rank, a_task(key="0", acknowledge_by=None))
    assert sorted([waiting, later, soon]) == [soon, later, waiting]


def test_a_dotted_person_is_one_token() -> None:
    rank = indexes.newest_first(T0)
    key = indexes.assignee_key("dana.reyes", rank, "INC-AAAAAAAA.family-contact")
    assert not key.startswith(indexes.assignee_prefix("dana"))
    assert indexes.task_of_assignee_key(key) == (
        f"{rank}.INC-AAAAAAAA",
        "INC-AAAAAAAA.family-contact",
    )


@pytest.mark.parametrize(
    ("status", "assignee", "held_by"),
    [
        (TaskStatus.ASSIGNED, "dana.reyes", "dana.reyes"),
        (TaskStatus.UNASSIGNED, None, indexes.NOBODY),
        (TaskStatus.WAITING, None, None),
        (TaskStatus.CANCELLED, None, None),
        (TaskStatus.COMPLETED, "dana.reyes", "dana.reyes"),
    ],
)
def test_a_task_in_the_pool_is_indexed_under_nobody(
    status: TaskStatus, assignee: str | None, held_by: str | None
) -> None:
    assert indexes.holder(a_task(status=status, assignee=assignee)) == held_by
    assert not indexes.NOBODY[0].isalnum()  # no person id can be it


def test_a_cursor_round_trips_and_junk_is_refused() -> None:
    cursor = Cursor("123.INC-AAAAAAAA", 42)
    assert decode_cursor(encode_cursor(cursor)) == cursor
    with pytest.raises(Refused):
        decode_cursor("%%%")


def test_a_page_stops_at_its_limit_and_its_bytes() -> None:
    page = PageBuilder(limit=2, budget=100, start=None)
    assert page.take("a", {}, 10) and page.take("b", {}, 10)
    assert not page.take("c", {}, 10) and page.full
    page = PageBuilder(limit=10, budget=100, start=None)
    assert page.take("a", {}, 90)
    assert not page.take("b", {}, 20)
    assert page.page(remaining=1).next_cursor is not None
    # The first item always fits, so one large item never stalls a walk.
    assert PageBuilder(limit=10, budget=100, start=None).take("a", {}, 500)
