"""Partners without accounts: the pages an action link opens.

- `GET /t/{token}` checks the link (400 if it was altered, 410 once expired or once the task is
  done or given to someone else), starts a link session (services.gateway.link_sessions) and
  sends the browser on to `/t/task/{task_id}`, so the token leaves the address bar and its
  history entry.
- `GET /t/task/{task_id}` shows that task to its person: what it is, the instructions, the
  deadlines, and the forms to acknowledge, complete or decline it.
- `POST /t/task/{task_id}/acknowledge|complete|decline` does it, through the same path as every
  console form (services.gateway.console_calls), as the link's principal (`via=link`, this task
  only: services.core.access refuses anything else).

Every page and form asks for the task again and checks that it is still this person's, in the
assignment the link was made for, and open; otherwise it answers 410 and does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.responses import RedirectResponse, Response

from schemas import subjects
from schemas.commands import TaskVerb
from schemas.enums import TaskStatus
from schemas.events import IncidentLogged
from schemas.tasks import TaskSnapshot
from services.core.links import ActionLinks, BadLink, ExpiredLink, LinkClaim
from services.gateway import csrf, link_sessions
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import FORM_KEY_FIELD, Done, form_key, perform, read
from services.gateway.link_sessions import LinkSession
from services.gateway.pages import page
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import FORGED

router = console_router()

OPEN = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS})
GONE = "This task has been reassigned or is done; this link no longer works."
EXPIRED = (
    "This link has expired. Ask whoever gave you the task for a new one, or sign in to Pathways."
)
BAD = (
    "This is not a working Pathways link: it may have been cut short or changed. "
    "Open it again from your message, all of it."
)
NO_SESSION = "This page opens from the link in your message. Open that link again."
NO_LINKS = "Action links are not set up on this server."
FINISHED = {
    "completed": "The task is marked completed. Thank you.",
    "declined": "You declined the task; it goes to someone else. Thank you for saying so.",
}
_markdown = MarkdownIt("commonmark", {"html": False})
Token = Annotated[str, Path(max_length=2000)]


def _links(request: Request) -> ActionLinks:
    links = console_of(request).rt.links
    if links is None:
        raise ConsoleRefusal(404, NO_LINKS)
    return links


def still_theirs(task: TaskSnapshot, claim: LinkClaim) -> bool:
    """The task is open and with the link's person, in the assignment the link was made for."""
    return (
        task.status in OPEN
        and task.assignee == claim.person
        and task.assignment == claim.assignment
    )


async def current_task(request: Request, session: LinkSession, task_id: str) -> TaskSnapshot:
    """The task as the link's person may read it (the services refuse any other task), if the
    link still stands for it; a refusal page otherwise."""
    task: TaskSnapshot = await read(
        request, session.principal, subjects.QRY_TASK_GET, {"task_id": task_id}
    )
    if not still_theirs(task, session.claim):
        raise ConsoleRefusal(410, GONE)
    return task


def _no_store(response: Response) -> Response:
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/t/done")
async def finished(request: Request, outcome: str = "") -> Response:
    message = FINISHED.get(outcome, "Done. Thank you.")
    context = {"title": "Thank you", "message": message, "link_session": True}
    return page(request, "message.html", context)


@router.get("/t/{token}")
async def open_link(request: Request, token: Token) -> Response:
    links = _links(request)
    try:
        claim = links.check(token)
    except ExpiredLink:
        raise ConsoleRefusal(410, EXPIRED) from None
    except BadLink:
        raise ConsoleRefusal(400, BAD) from None
    await current_task(request, LinkSession(claim, ""), claim.task_id)
    response = RedirectResponse(f"/t/task/{claim.task_id}", status_code=303)
    link_sessions.start(response, console_of(request).keys, claim)
    return _no_store(response)


def _session(request: Request) -> LinkSession:
    session = link_sessions.current(request, console_of(request).keys)
    if session is None:
        raise ConsoleRefusal(403, NO_SESSION)
    return session


async def link_form(request: Request) -> LinkSession:
    """A form of a link session, with its synchronizer token."""
    session = _session(request)
    form = await request.form()
    presented = form.get(csrf.FIELD)
    token = presented if isinstance(presented, str) else None
    if not session.csrf_ok(console_of(request).keys, token):
        raise ConsoleRefusal(403, FORGED)
    return session


def _utc(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else None


async def _incident_type(request: Request, incident_id: str) -> str | None:
    """What kind of incident it is: the one fact of it the page shows (never its title, its
    people or its attributes), read from the incident's first event."""
    store = console_of(request).rt.store
    found = await store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
    return found.event.incident_type.replace("-", " ") if found is not None else None


async def _task_page(
    request: Request,
    session: LinkSession,
    task: TaskSnapshot,
    *,
    error: str | None = None,
    error_field: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    roster = console_of(request).rt.roster
    member = roster.member(session.claim.person)
    context: dict[str, Any] = {
        "task": task,
        "person_name": member.name if member is not None else session.claim.person,
        "incident_type": await _incident_type(request, task.incident_id),
        "instructions": Markup(_markdown.render(task.instructions)),  # no raw HTML passes
        "acknowledge_by": _utc(task.acknowledge_by),
        "due_by": _utc(task.due_by),
        "acknowledged": task.status is not TaskStatus.ASSIGNED,
        "csrf_token": session.csrf_token(console_of(request).keys),
        "form_key": form_key(),
        "error": error,
        "error_field": error_field,
        "values": values or {},
        "link_session": True,
    }
    return _no_store(page(request, "link_task.html", context, status=status))


@router.get("/t/task/{task_id}")
async def show_task(request: Request, task_id: str) -> Response:
    session = _session(request)
    task = await current_task(request, session, task_id)
    return await _task_page(request, session, task)


LinkForm = Annotated[LinkSession, Depends(link_form)]
# The form field each verb's text comes in, as the command names it.
_TEXT_FIELD = {TaskVerb.COMPLETE: "note", TaskVerb.DECLINE: "reason"}
_OUTCOME = {TaskVerb.COMPLETE: "completed", TaskVerb.DECLINE: "declined"}


async def _act(request: Request, session: LinkSession, task_id: str, verb: TaskVerb) -> Response:
    task = await current_task(request, session, task_id)
    form = await request.form()
    fields: dict[str, Any] = {"verb": verb, "task_id": task_id}
    values: dict[str, str] = {}
    name = _TEXT_FIELD.get(verb)
    if name is not None:
        given = form.get(name)
        text = given.strip() if isinstance(given, str) else ""
        values[name] = text
        fields[name] = text or None
    key = form.get(FORM_KEY_FIELD)
    done = await perform(request, session.principal, subjects.CMD_TASK_ACT, fields,
                         key if isinstance(key, str) else None)  # fmt: skip
    if not isinstance(done, Done):
        status = done.problem.status if 400 <= done.problem.status < 500 else 400
        return await _task_page(request, session, task, error=done.message,
                                error_field=name, status=status, values=values)  # fmt: skip
    if verb is TaskVerb.ACKNOWLEDGE:
        return _no_store(RedirectResponse(f"/t/task/{task_id}", status_code=303))
    # Nothing is left to do through this link: the session ends with it.
    response = RedirectResponse(f"/t/done?outcome={_OUTCOME[verb]}", status_code=303)
    link_sessions.end(response)
    return _no_store(response)


@router.post("/t/task/{task_id}/acknowledge")
async def acknowledge(request: Request, session: LinkForm, task_id: str) -> Response:
    return await _act(request, session, task_id, TaskVerb.ACKNOWLEDGE)


@router.post("/t/task/{task_id}/complete")
async def complete(request: Request, session: LinkForm, task_id: str) -> Response:
    return await _act(request, session, task_id, TaskVerb.COMPLETE)


@router.post("/t/task/{task_id}/decline")
async def decline(request: Request, session: LinkForm, task_id: str) -> Response:
    return await _act(request, session, task_id, TaskVerb.DECLINE)
