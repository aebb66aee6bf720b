"""The playbook library for people: `/playbooks` (each playbook's title, incident types, phases
and number of tasks) and `/playbooks/{id}` (its phases, the tasks of each by role with their
windows in words, instructions rendered from Markdown, and follow-ups)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from schemas import subjects
from schemas.playbook import Phase, Playbook
from schemas.principals import Principal
from schemas.replies import PlaybookDetail
from schemas.tasks import Anchor, TaskTemplate
from schemas.views import PlaybookInfo
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import read
from services.gateway.markdown import rendered
from services.gateway.pages import page
from services.gateway.reader import PageReader, page_reader
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in
from services.gateway.when import span, within

router = console_router()
PLAYBOOK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
FROM = {
    Anchor.INCIDENT: "from when the incident is logged",
    Anchor.PHASE: "from the start of its phase",
    Anchor.PREREQUISITES: "from when its prerequisites are complete",
}


@dataclass(frozen=True)
class TaskShown:
    template: TaskTemplate
    role: str
    windows: str  # "acknowledge within 15 min, done within 2 h, from when the incident is logged"
    instructions: Markup | None
    follow_ups: str | None


@dataclass(frozen=True)
class PhaseShown:
    title: str
    description: str
    starts: str
    by_role: list[tuple[str, list[TaskShown]]]


def _task(reader: PageReader, template: TaskTemplate) -> TaskShown:
    windows = (
        f"acknowledge {within(template.acknowledge_within)}, done "
        f"{within(template.due_within)}, {FROM[template.relative_to]}"
    )
    follow = template.follow_ups
    follow_ups = None
    if follow is not None:
        when = ", ".join(span(after) for after in follow.after)
        follow_ups = f"{follow.title}: after {when} from the incident"
    text = template.instructions.strip()
    return TaskShown(
        template,
        reader.role_title(template.role),
        windows,
        rendered(text) if text else None,
        follow_ups,
    )


def _phase(reader: PageReader, playbook: Playbook, phase: Phase | None) -> PhaseShown:
    phase_id = phase.id if phase is not None else None
    by_role: dict[str, list[TaskShown]] = {}
    for template in playbook.tasks:
        if template.phase == phase_id:
            by_role.setdefault(reader.role_title(template.role), []).append(_task(reader, template))
    if phase is None:
        return PhaseShown("Tasks without a phase", "", "", list(by_role.items()))
    starts = (
        "at once" if not phase.starts_after else f"{span(phase.starts_after)} after the incident"
    )
    return PhaseShown(phase.title, phase.description, starts, list(by_role.items()))


def phases_of(reader: PageReader, playbook: Playbook) -> list[PhaseShown]:
    shown = [_phase(reader, playbook, phase) for phase in playbook.phases]
    loose = _phase(reader, playbook, None)
    return [*shown, loose] if loose.by_role else shown


async def _detail(request: Request, principal: Principal, playbook_id: str) -> PlaybookDetail:
    fields = {"playbook_id": playbook_id, "version": None}
    found: PlaybookDetail = await read(request, principal, subjects.QRY_PLAYBOOK_GET, fields)
    return found


@router.get("/playbooks")
async def library(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    found: list[PlaybookInfo] = await read(request, principal, subjects.QRY_PLAYBOOK_LIST, {})
    details = await asyncio.gather(*(_detail(request, principal, info.id) for info in found))
    rows = [(d.info, [p.title for p in d.playbook.phases]) for d in details]
    return page(request, "playbooks.html", {"rows": rows, "section": "playbooks"})


@router.get("/playbooks/{playbook_id}")
async def playbook(
    request: Request, playbook_id: str, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    if PLAYBOOK_ID.fullmatch(playbook_id) is None:
        raise ConsoleRefusal(404, "There is no such playbook.")
    detail = await _detail(request, principal, playbook_id)
    reader = page_reader(principal, console_of(request).rt.roster)
    context = {
        "info": detail.info,
        "playbook": detail.playbook,
        "description": rendered(detail.playbook.description),
        "phases": phases_of(reader, detail.playbook),
        "section": "playbooks",
    }
    return page(request, "playbook.html", context)
