"""The command forms of an incident's page: start a playbook, assign a task, close the incident.
Each answers with a 303 back to the incident's page once done; a refusal of who is asking (403)
or of what (404) is a page saying why; anything else shows the incident's page again with the
problem in its error summary. The services decide who may: these only send what was asked."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from schemas import subjects
from schemas.base import TASK_ID_PATTERN
from schemas.principals import Principal
from services.gateway.console import console_router
from services.gateway.console_calls import FORM_KEY_FIELD, Done, perform
from services.gateway.incident_page import check_incident_id, incident_context
from services.gateway.pages import page
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in_form

router = console_router()

PAGE_STATUSES = frozenset({403, 404})
NO_SUCH_TASK = "There is no task with that id."


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _again(
    request: Request, principal: Principal, incident_id: str, field: str, message: str, status: int
) -> Response:
    context = await incident_context(request, principal, incident_id, [(field, message)])
    return page(request, "incident.html", context, status=status)


async def _send(
    request: Request,
    principal: Principal,
    incident_id: str,
    subject: str,
    fields: dict[str, Any],
    field: str,
) -> Response:
    form = await request.form()
    done = await perform(request, principal, subject, fields, _text(form, FORM_KEY_FIELD))
    if isinstance(done, Done):
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
    if done.problem.status in PAGE_STATUSES:
        raise ConsoleRefusal(done.problem.status, done.message)
    return await _again(request, principal, incident_id, field, done.message, done.problem.status)


@router.post("/incidents/{incident_id}/trigger")
async def trigger(
    request: Request, incident_id: str, principal: Annotated[Principal, Depends(signed_in_form)]
) -> Response:
    check_incident_id(incident_id)
    playbook_id = _text(await request.form(), "playbook_id")
    if not playbook_id:
        return await _again(request, principal, incident_id, "playbook", "Choose a playbook.", 422)
    fields = {"incident_id": incident_id, "playbook_id": playbook_id}
    return await _send(
        request, principal, incident_id, subjects.CMD_PLAYBOOK_TRIGGER, fields, "playbook"
    )


@router.post("/incidents/{incident_id}/close")
async def close(
    request: Request, incident_id: str, principal: Annotated[Principal, Depends(signed_in_form)]
) -> Response:
    check_incident_id(incident_id)
    reason = _text(await request.form(), "reason")
    if not reason:
        message = "Enter the reason for closing."
        return await _again(request, principal, incident_id, "close-reason", message, 422)
    fields = {"incident_id": incident_id, "reason": reason}
    return await _send(
        request, principal, incident_id, subjects.CMD_INCIDENT_CLOSE, fields, "close-reason"
    )


@router.post("/tasks/{task_id}/assign")
async def assign(
    request: Request, task_id: str, principal: Annotated[Principal, Depends(signed_in_form)]
) -> Response:
    if not re.match(TASK_ID_PATTERN, task_id):
        raise ConsoleRefusal(404, NO_SUCH_TASK)
    incident_id, _, key = task_id.partition(".")
    to = _text(await request.form(), "to")
    field = f"assign-{key}"
    if not to:
        return await _again(request, principal, incident_id, field, "Choose who to assign.", 422)
    fields = {"task_id": task_id, "to": to}
    return await _send(request, principal, incident_id, subjects.CMD_TASK_ASSIGN, fields, field)
