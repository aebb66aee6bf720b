"""Lists readable at 80 columns: ids never cut, titles wrapped, years and overdue shown."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console

from schemas.enums import TaskStatus
from services.cli.output import task_table
from tests.unit.factories import T0, a_task

LONG_KEY = "k" * 63


def printed(width: int, *tasks: object) -> str:
    console = Console(file=io.StringIO(), width=width)
    console.print(task_table(list(tasks), now=T0))  # type: ignore[arg-type]
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_at_80_columns_every_id_is_whole_and_the_title_wraps_under_it() -> None:
    task = a_task(task_id=f"INC-AAAAAAAA.{LONG_KEY}", key=LONG_KEY, title="word " * 30)
    shown = printed(80, task)
    assert f"INC-AAAAAAAA.{LONG_KEY}" in shown.splitlines()
    assert all(len(line) <= 80 for line in shown.splitlines())
    assert "…" not in shown
    assert shown.count("word") == 30


def test_a_wide_terminal_gets_a_table_with_headers() -> None:
    shown = printed(200, a_task())
    assert shown.splitlines()[0].split()[:3] == ["TASK", "ROLE", "STATUS"]
    assert "INC-AAAAAAAA.family-contact" in shown


def test_dates_show_the_year_only_when_it_is_not_this_one() -> None:
    shown = printed(200, a_task(due_by=T0 + timedelta(days=60)))
    assert "Nov 21 10:00" in shown  # acknowledge-by, this year
    assert "Jan 20 2027 08:00" in shown


def test_passed_deadlines_of_work_not_done_are_marked_overdue() -> None:
    late = a_task(acknowledge_by=T0 - timedelta(hours=1), due_by=T0 - timedelta(minutes=1))
    assert printed(200, late).count("OVERDUE") == 2
    acknowledged = late.model_copy(update={"status": TaskStatus.ACKNOWLEDGED})
    assert printed(200, acknowledged).count("OVERDUE") == 1
    done = late.model_copy(update={"status": TaskStatus.COMPLETED})
    assert "OVERDUE" not in printed(200, done)
