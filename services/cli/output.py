"""What the CLI prints. The JSON shapes here are the documented, stable `--json` output."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from schemas.enums import IncidentStatus, TaskStatus
from schemas.tasks import TaskNote, TaskSnapshot
from schemas.views import IncidentListItem, IncidentSummary, Timeline, TimelineEntry
from services.cli.listing import Column, Listing, when
from services.cli.safe import unsafe
from services.core.confidential import sealed_marker
from services.core.timeline_formats import elapsed_seconds, note_of, timeline_lines

# Titles, notes and reasons are people's words: never read as markup or emoji codes.
out = Console(
    highlight=False, emoji=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200
)


def print_json(value: Any) -> None:
    sys.stdout.write(json_text(value))


def json_text(value: Any) -> str:
    """Readable UTF-8, except that characters a terminal would act on stay \\u-escaped (JSON
    escapes the C0 controls itself; C1 controls and bidirectional overrides it would not)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    # A raw newline in the dump is layout: inside strings json.dumps has escaped them all.
    return "".join(_json_escape(c) for c in text) + "\n"


def _json_escape(char: str) -> str:
    return f"\\u{ord(char):04x}" if char != "\n" and unsafe(char) else char


def task_json(task: TaskSnapshot) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "incident": task.incident_id,
        "key": task.key,
        "run": task.run,
        "title": task.title,
        "role": task.role,
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
        "note": completion_note(task),
        "notes": [
            {
                "author": n.author,
                "at": n.at.isoformat(),
                "tier": n.tier.value,
                "text": note_text(n),
            }
            for n in task.notes
        ],
        "instructions": task.instructions,
    }


# Sealed text is never opened here (an operator is never shown restricted text): should an
# envelope reach the command line, it shows the marker in its place.
def note_text(note: TaskNote) -> str:
    return sealed_marker(note.sealed) if note.sealed is not None else note.text or ""


def completion_note(task: TaskSnapshot) -> str | None:
    return sealed_marker(task.note_sealed) if task.note_sealed is not None else task.note


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
        "playbook_run": incident.playbook_run,
        "playbook_cancelled_at": (
            incident.playbook_cancelled_at.isoformat() if incident.playbook_cancelled_at else None
        ),
        "playbook_cancelled_by": incident.playbook_cancelled_by,
        "playbook_cancel_reason": incident.playbook_cancel_reason,
        "task_count": incident.task_count,
        "response_completed_at": (
            incident.response_completed_at.isoformat() if incident.response_completed_at else None
        ),
        "exercise": incident.exercise,
        "time_scale": incident.time_scale,
        "involved": list(incident.involved),
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        "closed_by": incident.closed_by,
        "close_reason": incident.close_reason,
    }


def entry_json(entry: TimelineEntry, incident: IncidentSummary) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "elapsed_seconds": elapsed_seconds(entry.at, incident.logged_at),
        "type": entry.type,
        "actor": entry.actor,
        "text": entry.text,
        "task": entry.task_id,
        "role": entry.role,
        "phase": entry.phase,
        "assignee": entry.assignee,
        "tier": entry.tier.value,
        "note": note_of(entry),
        "note_by": entry.note_by,
        "redacted": entry.redacted,
        "recognised": entry.recognised,
    }


def task_table(tasks: list[TaskSnapshot], now: datetime | None = None) -> Listing:
    now = now or datetime.now(UTC)
    columns = [
        Column("TASK"),
        Column("ROLE"),
        Column("STATUS"),
        Column("ASSIGNEE"),
        Column("ACK BY (UTC)", "ack "),
        Column("DUE BY (UTC)", "due "),
        Column("TITLE"),
    ]
    rows = [
        [
            task.task_id,
            task.role,
            task.status.value,
            task.assignee or "-",
            when(task.acknowledge_by, now, overdue=ack_overdue(task, now)),
            when(task.due_by, now, overdue=due_overdue(task, now)),
            f"[exercise] {task.title}" if task.exercise else task.title,
        ]
        for task in tasks
    ]
    return Listing(columns, rows)


def ack_overdue(task: TaskSnapshot, now: datetime) -> bool:
    waiting = task.status in (TaskStatus.ASSIGNED, TaskStatus.UNASSIGNED)
    return waiting and task.acknowledge_by is not None and task.acknowledge_by < now


def due_overdue(task: TaskSnapshot, now: datetime) -> bool:
    done = task.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED, TaskStatus.WAITING)
    return not done and task.due_by is not None and task.due_by < now


def attention(incident: IncidentListItem) -> str:
    if incident.unassigned_tasks and incident.status is not IncidentStatus.CLOSED:
        return f"NEEDS ATTENTION: {incident.unassigned_tasks} unassigned"
    return ""


def incident_table(incidents: list[IncidentListItem], now: datetime | None = None) -> Listing:
    now = now or datetime.now(UTC)
    columns = [
        Column("INCIDENT"),
        Column("TYPE"),
        Column("SEVERITY", "severity "),
        Column("STATUS"),
        Column("LOGGED (UTC)", "logged "),
        Column("PLAYBOOK", "playbook "),
        Column("TITLE"),
    ]
    rows = [
        [
            incident.incident_id,
            incident.incident_type,
            incident.severity.value,
            " ".join(
                part
                for part in (
                    incident.status.value,
                    "(exercise)" if incident.exercise else "",
                    attention(incident),
                )
                if part
            ),
            when(incident.logged_at, now),
            (incident.playbook_id or "-")
            + (" (cancelled)" if incident.playbook_cancelled_at else ""),
            incident.title,
        ]
        for incident in incidents
    ]
    return Listing(columns, rows)


def timeline_text(timeline: Timeline) -> str:
    return "\n".join(timeline_lines(timeline)) + "\n"
