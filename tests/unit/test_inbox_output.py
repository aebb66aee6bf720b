"""`pathways inbox` output: readable at 80 columns, terminal-safe, stable JSON."""

from __future__ import annotations

import io

from rich.console import Console

from schemas.notifications import InboxEntry, NoticeKind
from services.cli.inbox import inbox_json, inbox_table
from tests.unit.factories import T0

LONG_KEY = "k" * 63


def an_entry(**changes: object) -> InboxEntry:
    fields: dict[str, object] = {
        "notice_id": f"INC-AAAAAAAA.{LONG_KEY}.created.priya.nair",
        "kind": NoticeKind.ACKNOWLEDGE_OVERDUE,
        "at": T0,
        "recipient_id": "priya.nair",
        "subject": "Not acknowledged: " + "word " * 20,
        "task_id": f"INC-AAAAAAAA.{LONG_KEY}",
        "incident_id": "INC-AAAAAAAA",
        "task_title": "Family contact",
        "incident_type": "officer-involved-shooting",
        "urgent": True,
    }
    return InboxEntry.model_validate(fields | changes)


def printed(width: int, *entries: InboxEntry) -> str:
    console = Console(file=io.StringIO(), width=width)
    console.print(inbox_table(list(entries), now=T0))
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_at_80_columns_the_task_id_is_whole_and_the_message_wraps() -> None:
    shown = printed(80, an_entry())
    assert f"INC-AAAAAAAA.{LONG_KEY}" in shown
    assert all(len(line) <= 80 for line in shown.splitlines())
    assert shown.count("word") == 20 and "acknowledge_overdue URGENT" in shown


def test_a_wide_terminal_gets_a_table() -> None:
    shown = printed(200, an_entry(task_id="INC-AAAAAAAA.family-contact", subject="New task"))
    assert shown.splitlines()[0].split() == ["WHEN", "(UTC)", "KIND", "TASK", "MESSAGE"]


def test_a_subject_cannot_drive_the_terminal() -> None:
    shown = printed(200, an_entry(subject="New task: \x1b]52;c;evil\x07 \u202eevil"))
    assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b" in shown


def test_json_names_the_notice_by_id_and_keeps_every_fact() -> None:
    item = inbox_json(an_entry(task_title=None, incident_type=None, restricted=True))
    assert item["id"] == f"INC-AAAAAAAA.{LONG_KEY}.created.priya.nair"
    assert (item["kind"], item["task"], item["incident"]) == (
        "acknowledge_overdue",
        f"INC-AAAAAAAA.{LONG_KEY}",
        "INC-AAAAAAAA",
    )
    assert item["title"] is None and item["restricted"] is True
    assert item["at"] == T0.isoformat()
