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
from schemas.enums import IncidentStatus, TaskStatus
from schemas.limits import LIST_LIMIT_MAX
from schemas.playbook import AttributeSpec, AttributeType, declared_for
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
# A skipped task is never assigned: its condition did not hold for this incident.
SKIPPED_HOLDER = "Nobody: skipped, as its condition did not hold for this incident"


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


def holder_words(roster: Roster, task: TaskSnapshot) -> str:
    """Who holds the task, in words: a closed task nobody held never will be held."""
    if task.assignee is None and task.status is TaskStatus.SKIPPED:
        return SKIPPED_HOLDER
    if task.assignee is None and task.status is TaskStatus.CANCELLED:
        return "Nobody"
    return _name(roster, task.assignee)


def _row(task: TaskSnapshot, roster: Roster, now: datetime, command: bool) -> TaskRow:
    assignable = command and task.status in OPEN
    holders = tuple((p, _name(roster, p)) for p in roster.holders(task.role)) if assignable else ()
    return TaskRow(
        task=task,
        status=STATUS_WORDS[task.status],
        assignee=holder_words(roster, task),
        deadline=deadline(task, now),
        overdue=is_overdue(task, now),
        escalation=escalation_level(task),
        holders=holders,
        form_key=form_key() if assignable else "",
    )


async def _playbook_of(
    request: Request, principal: Principal, playbook_id: str, version: str | None = None
) -> PlaybookDetail | None:
    """A playbook (the version that ran, if named), or None if this reader may not read it."""
    fields = {"playbook_id": playbook_id, **({"version": version} if version else {})}
    try:
        detail: PlaybookDetail = await read(request, principal, subjects.QRY_PLAYBOOK_GET, fields)
    except ConsoleRefusal:
        return None
    return detail


async def _ran(
    request: Request, principal: Principal, incident: IncidentSummary
) -> PlaybookDetail | None:
    """The playbook version the incident's latest run pinned, if any and readable."""
    if incident.playbook_id is None:
        return None
    return await _playbook_of(request, principal, incident.playbook_id, incident.playbook_version)


async def _declared(
    request: Request, principal: Principal, incident: IncidentSummary, ran: PlaybookDetail | None
) -> dict[str, AttributeSpec]:
    """The incident's attribute declarations: the run's playbook's, else its type's playbooks'."""
    if ran is not None:
        return declared_for([ran.playbook], incident.incident_type)
    if not incident.attributes:
        return {}
    try:
        books: list[PlaybookInfo] = await read(request, principal, subjects.QRY_PLAYBOOK_LIST, {})
    except ConsoleRefusal:
        return {}
    found = [
        await _playbook_of(request, principal, b.id)
        for b in books
        if incident.incident_type in b.incident_types
    ]
    return declared_for((d.playbook for d in found if d), incident.incident_type)


def attribute_words(
    attributes: dict[str, str], declared: dict[str, AttributeSpec]
) -> list[tuple[str, str]]:
    """Each attribute as the page shows it: its name in words, a boolean as Yes or No."""
    shown = []
    for name, value in attributes.items():
        spec = declared.get(name)
        if spec is not None and spec.type is AttributeType.BOOLEAN:
            value = "Yes" if value.lower() == "true" else "No"
        shown.append((name.replace("_", " ").capitalize(), value))
    return shown


def may_start(incident: IncidentSummary) -> bool:
    """Whether the engine would start a playbook now: no run yet, or the last was cancelled
    (services.engine.commands.start_run refuses another while a run is in place)."""
    return incident.playbook_id is None or incident.playbook_cancelled_at is not None


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
    ran = await _ran(request, principal, incident)
    phases = [(phase.id, phase.title) for phase in ran.playbook.phases] if ran else []
    groups = by_phase_and_role(tasks.items, phases, role_titles)
    return {
        "section": "board",
        "incident": incident,
        "status": INCIDENT_WORDS[incident.status],
        "logged": f"{utc(incident.logged_at)} ({age(incident, now)})",
        "logged_by": _name(roster, incident.logged_by),
        "involved": [_name(roster, p) for p in incident.involved],
        "attributes": attribute_words(
            incident.attributes, await _declared(request, principal, incident, ran)
        ),
        "ran_title": ran.playbook.title if ran else incident.playbook_id,
        "may_start": may_start(incident),
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
