"""What the CLI prints. The JSON shapes here are the documented, stable `--json` output."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from schemas.tasks import TaskSnapshot
from schemas.views import IncidentSummary, Timeline, TimelineEntry

# Titles, notes and reasons are people's words: never read as markup or emoji codes.
out = Console(
    highlight=False, emoji=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200
)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def task_json(task: TaskSnapshot) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "incident": task.incident_id,
        "key": task.key,
        "title": task.title,
        "role": task.role.value,
        "phase": task.phase,
        "status": task.status.value,
        "assignee": task.assignee,
        "tier": task.tier.value,
        "required": task.required,
        "depends_on": list(task.depends_on),
        "declined_by": list(task.declined_by),
        "acknowledge_by": task.acknowledge_by.isoformat() if task.acknowledge_by else None,
        "due_by": task.due_by.isoformat() if task.due_by else None,
        "follow_up_of": task.follow_up_of,
        "exercise": task.exercise,
        "note": task.note,
        "instructions": task.instructions,
    }


def incident_json(incident: IncidentSummary) -> dict[str, Any]:
    return {
        "id": incident.incident_id,
        "type": incident.incident_type,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "attributes": incident.attributes,
        "logged_at": incident.logged_at.isoformat(),
        "logged_by": incident.logged_by,
        "playbook": incident.playbook_id,
        "playbook_version": incident.playbook_version,
        "task_count": incident.task_count,
        "response_completed_at": (
            incident.response_completed_at.isoformat() if incident.response_completed_at else None
        ),
        "exercise": incident.exercise,
        "time_scale": incident.time_scale,
    }


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "type": entry.type,
        "actor": entry.actor,
        "text": entry.text,
        "task": entry.task_id,
        "tier": entry.tier.value,
        "note": entry.note,
        "redacted": entry.redacted,
        "recognised": entry.recognised,
    }


def when(moment: datetime | None) -> str:
    """A deadline in a table; none yet while it counts from prerequisites still open."""
    return moment.strftime("%b %d %H:%M") if moment else "after prereqs"


def add_plain_row(table: Table, *cells: str) -> None:
    """Cells are data, never markup: a title with [brackets] prints as written."""
    table.add_row(*(Text(cell) for cell in cells))


def task_table(tasks: list[TaskSnapshot]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("TASK", "ROLE", "STATUS", "ASSIGNEE", "ACK BY (UTC)", "DUE BY (UTC)", "TITLE"):
        table.add_column(column, no_wrap=column != "TITLE")
    for task in tasks:
        add_plain_row(
            table,
            task.task_id,
            task.role.value,
            task.status.value,
            task.assignee or "-",
            when(task.acknowledge_by),
            when(task.due_by),
            f"[exercise] {task.title}" if task.exercise else task.title,
        )
    return table


def incident_table(incidents: list[IncidentSummary]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("INCIDENT", "TYPE", "SEVERITY", "STATUS", "LOGGED (UTC)", "PLAYBOOK", "TITLE"):
        table.add_column(column, no_wrap=column != "TITLE")
    for incident in incidents:
        add_plain_row(
            table,
            incident.incident_id,
            incident.incident_type,
            incident.severity.value,
            f"{incident.status.value} (exercise)" if incident.exercise else incident.status.value,
            when(incident.logged_at),
            incident.playbook_id or "-",
            incident.title,
        )
    return table


def timeline_text(timeline: Timeline) -> str:
    console = Console(file=io.StringIO(), width=200, highlight=False, emoji=False)
    print_timeline(timeline, console)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def print_timeline(timeline: Timeline, console: Console) -> None:
    incident = timeline.incident
    console.print(f"{incident.incident_id}  {incident.title}", markup=False)
    if incident.exercise:
        console.print(f"EXERCISE (time scale {incident.time_scale:g})", markup=False)
    console.print(
        f"{incident.incident_type}, severity {incident.severity.value}, {incident.status.value}",
        markup=False,
    )
    console.print()
    for entry in timeline.entries:
        console.print(f"{entry.at.strftime('%Y-%m-%d %H:%M:%S')}  {entry.text}", markup=False)
        if entry.note:
            console.print(f"{'':21}note ({entry.tier.value}): {entry.note}", markup=False)
