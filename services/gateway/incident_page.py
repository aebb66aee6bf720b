"""One incident's page (`/incidents/{id}`): its facts and its tasks grouped by phase then role,
each with its status, assignee, deadline and escalation level. Command staff also get the forms
to start a playbook, assign a task and close the incident (services.gateway.incident_actions);
everyone else reads the page without them. `/fragments/incidents/{id}` is its live part alone.

What it costs: the incident, its tasks (one page of up to 500), the playbook that ran (for its
phase titles) and, for command staff, the playbook list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from schemas import subjects
from schemas.base import INCIDENT_ID_PATTERN, utc_now
from schemas.enums import IncidentStatus
from schemas.limits import LIST_LIMIT_MAX
from schemas.principals import Principal
from schemas.replies import Page, PlaybookDetail
from schemas.report import Audience
from schemas.roster import Roster
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentSummary, PlaybookInfo
from services.core import access
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import form_key, read
from services.gateway.incident_views import (
    INCIDENT_WORDS,
    OPEN,
    STATUS_WORDS,
    age,
    attention,
    by_phase_and_role,
    deadline,
    escalation_level,
    is_overdue,
    utc,
)
from services.gateway.pages import page
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in

router = console_router()

NO_SUCH_INCIDENT = "There is no incident with that id."


@dataclass(frozen=True)
class TaskRow:
    task: TaskSnapshot
    status: str
    assignee: str
    deadline: str
    overdue: bool
    escalation: int
    # Command staff only: who may be given it (id, name), and the key of its assign form.
    holders: tuple[tuple[str, str], ...] = ()
    form_key: str = ""


def check_incident_id(incident_id: str) -> None:
    if not re.match(INCIDENT_ID_PATTERN, incident_id):
        raise ConsoleRefusal(404, NO_SUCH_INCIDENT)


def is_command(request: Request, principal: Principal) -> bool:
    reader = access.reader_of(principal, console_of(request).rt.roster)
    return access.decide(reader, access.Action.ASSIGN_TASK).allowed


def review_links(request: Request, principal: Principal) -> dict[str, bool]:
    """Which of the incident's review pages the viewer may open (the timeline, its report for
    some audience): a responder holding a task here gets neither link."""
    reader = access.reader_of(principal, console_of(request).rt.roster)
    public = access.Target(audience=Audience.PUBLIC)
    return {
        "reads_timeline": access.decide(reader, access.Action.READ_TIMELINE).allowed,
        "reads_report": access.decide(reader, access.Action.READ_REPORT, public).allowed,
    }


def _name(roster: Roster, person: str | None) -> str:
    member = roster.member(person) if person else None
    return member.name if member else (person or "Nobody yet")


def _row(task: TaskSnapshot, roster: Roster, now: datetime, command: bool) -> TaskRow:
    assignable = command and task.status in OPEN
    holders = tuple((p, _name(roster, p)) for p in roster.holders(task.role)) if assignable else ()
    return TaskRow(
        task=task,
        status=STATUS_WORDS[task.status],
        assignee=_name(roster, task.assignee),
        deadline=deadline(task, now),
        overdue=is_overdue(task, now),
        escalation=escalation_level(task),
        holders=holders,
        form_key=form_key() if assignable else "",
    )


async def _phases(
    request: Request, principal: Principal, incident: IncidentSummary
) -> list[tuple[str, str]]:
    """The phases of the playbook that ran, in order, with their titles (none if unreadable)."""
    if incident.playbook_id is None:
        return []
    fields = {"playbook_id": incident.playbook_id, "version": incident.playbook_version}
    try:
        detail: PlaybookDetail = await read(request, principal, subjects.QRY_PLAYBOOK_GET, fields)
    except ConsoleRefusal:
        return []
    return [(phase.id, phase.title) for phase in detail.playbook.phases]


async def _playbooks_for(
    request: Request, principal: Principal, incident: IncidentSummary
) -> list[PlaybookInfo]:
    found: list[PlaybookInfo] = await read(request, principal, subjects.QRY_PLAYBOOK_LIST, {})
    return [b for b in found if incident.incident_type in b.incident_types]


async def incident_context(
    request: Request,
    principal: Principal,
    incident_id: str,
    errors: Sequence[tuple[str, str]] = (),
) -> dict[str, object]:
    check_incident_id(incident_id)
    incident: IncidentSummary = await read(
        request, principal, subjects.QRY_INCIDENT_GET, {"incident_id": incident_id}
    )
    fields = {"incident_id": incident_id, "limit": LIST_LIMIT_MAX}
    tasks: Page[TaskSnapshot] = await read(request, principal, subjects.QRY_TASK_LIST, fields)
    roster = console_of(request).rt.roster
    now = utc_now()
    command = is_command(request, principal) and incident.status is not IncidentStatus.CLOSED
    rows = {t.task_id: _row(t, roster, now, command) for t in tasks.items}
    role_titles = {r.id: r.title for r in roster.roles}
    groups = by_phase_and_role(
        tasks.items, await _phases(request, principal, incident), role_titles
    )
    return {
        "section": "board",
        "incident": incident,
        "status": INCIDENT_WORDS[incident.status],
        "logged": f"{utc(incident.logged_at)} ({age(incident, now)})",
        "logged_by": _name(roster, incident.logged_by),
        "involved": [_name(roster, p) for p in incident.involved],
        "attention": attention(tasks.items, now),
        "groups": groups,
        "rows": rows,
        "command": command,
        "playbooks": await _playbooks_for(request, principal, incident) if command else [],
        "trigger_key": form_key(),
        "close_key": form_key(),
        "errors": list(errors),
        **review_links(request, principal),
    }


@router.get("/incidents/{incident_id}")
async def incident_page(
    request: Request, incident_id: str, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    return page(request, "incident.html", await incident_context(request, principal, incident_id))


@router.get("/fragments/incidents/{incident_id}")
async def incident_fragment(
    request: Request, incident_id: str, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    context = await incident_context(request, principal, incident_id)
    return page(request, "fragments/incident.html", context)
