"""My tasks (`/my`), made for a phone first: the reader's open tasks, most urgent first, each
with its next step as a button; the unassigned tasks of their roles, to claim; and what they
finished lately. `/fragments/my` is the list alone, which static/live.js refetches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from schemas import subjects
from schemas.enums import TaskStatus
from schemas.limits import LIST_LIMIT_MAX
from schemas.principals import Principal
from schemas.replies import Page
from schemas.tasks import TaskSnapshot
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import form_key, read
from services.gateway.incident_titles import incident_titles
from services.gateway.pages import page
from services.gateway.reader import PageReader, page_reader
from services.gateway.signed_in import signed_in
from services.gateway.task_actions import CLOSED, Verb, deadline_of, next_step
from services.gateway.when import relative, utc, utc_now

router = console_router()
RECENTLY_DONE = 10


@dataclass(frozen=True)
class TaskRow:
    task: TaskSnapshot
    deadline_label: str
    deadline_utc: str
    deadline_relative: str
    overdue: bool
    step: Verb | None


def row(task: TaskSnapshot, person: str | None, now: datetime) -> TaskRow:
    deadline = deadline_of(task)
    return TaskRow(
        task=task,
        deadline_label=deadline.label,
        deadline_utc=utc(deadline.at),
        deadline_relative=relative(deadline.at, now, deadline.verb),
        overdue=deadline.overdue(now),
        step=next_step(task, person),
    )


def most_urgent_first(rows: list[TaskRow]) -> list[TaskRow]:
    """Overdue first, then by the deadline that matters now; tasks without one last."""

    def key(item: TaskRow) -> tuple[bool, bool, float]:
        at = deadline_of(item.task).at
        return (not item.overdue, at is None, at.timestamp() if at is not None else 0.0)

    return sorted(rows, key=key)


async def _tasks(request: Request, principal: Principal, **fields: Any) -> list[TaskSnapshot]:
    found: Page[TaskSnapshot] = await read(
        request, principal, subjects.QRY_TASK_LIST, {"limit": LIST_LIMIT_MAX, **fields}
    )
    return list(found.items)


async def my_lists(request: Request, principal: Principal, reader: PageReader) -> dict[str, Any]:
    """What /my shows: open (most urgent first), claimable, and recently done."""
    if reader.person is None:
        return {"open": [], "claimable": [], "done": [], "incidents": {}}
    now = utc_now()
    mine = await _tasks(request, principal, assignee=reader.person)
    pool = await _tasks(request, principal, status=TaskStatus.UNASSIGNED)
    open_rows = [row(t, reader.person, now) for t in mine if t.status not in CLOSED]
    claimable = [
        row(t, reader.person, now)
        for t in pool
        if t.assignee is None and t.role in reader.held_roles
    ]
    done = [t for t in mine if t.status is TaskStatus.COMPLETED][:RECENTLY_DONE]
    shown = [r.task.incident_id for r in open_rows + claimable] + [t.incident_id for t in done]
    return {
        "open": most_urgent_first(open_rows),
        "claimable": most_urgent_first(claimable),
        "done": done,
        "incidents": await incident_titles(request, principal, shown),
    }


async def _context(request: Request, principal: Principal) -> dict[str, Any]:
    reader = page_reader(principal, console_of(request).rt.roster)
    lists = await my_lists(request, principal, reader)
    return {"reader": reader, "form_key": form_key, "section": "my", **lists}


@router.get("/my")
async def my_page(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    return page(request, "my.html", await _context(request, principal))


@router.get("/fragments/my")
async def my_fragment(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    return page(request, "_my_list.html", await _context(request, principal))
