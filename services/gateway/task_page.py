"""A task's page (`/tasks/{task_id}`): where it stands, the playbook's instructions (Markdown,
rendered without raw HTML), its notes as the reply holds them (a restricted note is text for
its team and a marker for anyone else), and the forms that make sense for this reader."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from schemas import subjects
from schemas.base import INCIDENT_ID_PATTERN, TASK_ID_PATTERN
from schemas.enums import TaskStatus, Tier
from schemas.principals import Principal
from schemas.tasks import TaskSnapshot
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import form_key, read
from services.gateway.incident_titles import incident_titles
from services.gateway.markdown import rendered
from services.gateway.pages import page
from services.gateway.reader import page_reader
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in
from services.gateway.task_actions import (
    CLOSED,
    deadline_of,
    escalation_level,
    may_note,
    verbs_for,
)
from services.gateway.when import relative, utc, utc_now

router = console_router()
NO_SUCH_TASK = "There is no such task."
NO_SUCH_INCIDENT = "There is no such incident."
# Before acknowledgement (or before anyone has it): the acknowledge-by deadline still applies.
AWAITING_ACKNOWLEDGEMENT = frozenset(
    {TaskStatus.WAITING, TaskStatus.UNASSIGNED, TaskStatus.ASSIGNED}
)


@dataclass(frozen=True)
class FormError:
    """What went wrong with a form, for the page's error summary: the message, and the id of
    the field to go to (None: the form as a whole)."""

    message: str
    field: str | None = None


@dataclass(frozen=True)
class Entered:
    """What the reader typed, kept when the page is shown again after a refusal."""

    values: dict[str, str] = field(default_factory=dict)


def checked_task_id(task_id: str) -> str:
    if re.fullmatch(TASK_ID_PATTERN, task_id) is None:
        raise ConsoleRefusal(404, NO_SUCH_TASK)
    return task_id


def checked_incident_id(incident_id: str) -> str:
    if re.fullmatch(INCIDENT_ID_PATTERN, incident_id) is None:
        raise ConsoleRefusal(404, NO_SUCH_INCIDENT)
    return incident_id


async def task_page(
    request: Request,
    principal: Principal,
    task_id: str,
    error: FormError | None = None,
    entered: Entered | None = None,
    status: int = 200,
) -> Response:
    found: TaskSnapshot = await read(
        request, principal, subjects.QRY_TASK_GET, {"task_id": task_id}
    )
    context = _context(request, principal, found, error, entered)
    titles = await incident_titles(request, principal, [found.incident_id])
    context["incident_title"] = titles.get(found.incident_id, found.incident_id)
    return page(request, "task.html", context, status)


def _context(
    request: Request,
    principal: Principal,
    task: TaskSnapshot,
    error: FormError | None,
    entered: Entered | None,
) -> dict[str, Any]:
    reader = page_reader(principal, console_of(request).rt.roster)
    now = utc_now()
    deadline = deadline_of(task)
    return {
        "task": task,
        "reader": reader,
        "verbs": [v.value for v in verbs_for(task, reader.person, reader.held_roles)],
        "may_note": may_note(task, reader.person, reader.held_roles, reader.command),
        "instructions": rendered(task.instructions) if task.instructions.strip() else None,
        **_deadlines(task, now),
        "overdue": task.status not in CLOSED and deadline.overdue(now),
        "escalation_level": escalation_level(task),
        "notes": [(note, utc(note.at)) for note in task.notes],
        "tiers": [t.value for t in Tier],
        "error": error,
        "entered": (entered or Entered()).values,
        "form_key": form_key,
    }


def _deadlines(task: TaskSnapshot, now: datetime) -> dict[str, tuple[str, str] | None]:
    """The deadlines still ahead of the task: acknowledging only until it is acknowledged,
    completing only until it is closed (a done task shows none, as if still pending)."""
    pending = task.status not in CLOSED
    acknowledging = pending and task.status in AWAITING_ACKNOWLEDGEMENT
    return {
        "acknowledge_by": (
            (utc(task.acknowledge_by), relative(task.acknowledge_by, now, "acknowledge"))
            if acknowledging
            else None
        ),
        "due_by": (utc(task.due_by), relative(task.due_by, now)) if pending else None,
    }


@router.get("/tasks/{task_id}")
async def show_task(
    request: Request, task_id: str, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    return await task_page(request, principal, checked_task_id(task_id))
