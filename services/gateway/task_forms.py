"""The task forms: acknowledge, start, complete (with a note), decline (with a reason), claim,
and add a note. Each is sent as the signed-in person through the services, which decide; done,
it answers 303 to the task's page (or to `next`, a path of this site); refused, the task's page
again with an error summary and what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from schemas import subjects
from schemas.commands import TaskVerb
from schemas.enums import Tier
from schemas.principals import Principal
from services.gateway.console import console_router
from services.gateway.console_calls import FORM_KEY_FIELD, PAGE_STATUSES, Done, perform
from services.gateway.refusals import safe_next
from services.gateway.signed_in import signed_in_form
from services.gateway.task_page import Entered, FormError, checked_task_id, task_page

router = console_router()
Signed = Annotated[Principal, Depends(signed_in_form)]

NEEDS_REASON = "Give a reason for declining."
NEEDS_TEXT = "Write the note before adding it."
NEEDS_TIER = "Choose who may read the note."


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _after(form: FormData, task_id: str) -> str:
    """Where to go once it is done: `next` when it is a path of this site, else the task."""
    wanted = _text(form, "next")
    return safe_next(wanted) if wanted else f"/tasks/{task_id}"


async def _submit(
    request: Request,
    principal: Principal,
    task_id: str,
    subject: str,
    fields: dict[str, Any],
    field: str | None = None,
) -> Response:
    form = await request.form()
    done = await perform(request, principal, subject, fields, _text(form, FORM_KEY_FIELD))
    if isinstance(done, Done):
        return RedirectResponse(_after(form, task_id), status_code=303)
    status = done.problem.status if done.problem.status in PAGE_STATUSES else 400
    return await _again(request, principal, task_id, FormError(done.message, field), status)


async def _again(
    request: Request, principal: Principal, task_id: str, error: FormError, status: int = 422
) -> Response:
    """The task's page again, with the error and what the reader typed."""
    form = await request.form()
    typed = {
        k: v
        for k, v in form.items()
        if isinstance(v, str) and k in ("note", "reason", "text", "tier")
    }
    return await task_page(request, principal, task_id, error, Entered(typed), status)


async def _act(
    request: Request, principal: Principal, task_id: str, verb: TaskVerb, **text: Any
) -> Response:
    fields = {"verb": verb, "task_id": checked_task_id(task_id), **text}
    return await _submit(request, principal, task_id, subjects.CMD_TASK_ACT, fields)


@router.post("/tasks/{task_id}/acknowledge")
async def acknowledge(request: Request, task_id: str, principal: Signed) -> Response:
    return await _act(request, principal, task_id, TaskVerb.ACKNOWLEDGE)


@router.post("/tasks/{task_id}/start")
async def start(request: Request, task_id: str, principal: Signed) -> Response:
    return await _act(request, principal, task_id, TaskVerb.START)


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, task_id: str, principal: Signed) -> Response:
    note = _text(await request.form(), "note") or None
    return await _act(request, principal, task_id, TaskVerb.COMPLETE, note=note)


@router.post("/tasks/{task_id}/decline")
async def decline(request: Request, task_id: str, principal: Signed) -> Response:
    reason = _text(await request.form(), "reason")
    if not reason:
        return await _again(
            request, principal, checked_task_id(task_id), FormError(NEEDS_REASON, "reason")
        )
    return await _act(request, principal, task_id, TaskVerb.DECLINE, reason=reason)


@router.post("/tasks/{task_id}/claim")
async def claim(request: Request, task_id: str, principal: Signed) -> Response:
    fields = {"task_id": checked_task_id(task_id)}
    return await _submit(request, principal, task_id, subjects.CMD_TASK_CLAIM, fields)


@router.post("/tasks/{task_id}/notes")
async def add_note(request: Request, task_id: str, principal: Signed) -> Response:
    checked_task_id(task_id)
    form = await request.form()
    text, tier = _text(form, "text"), _text(form, "tier")
    if not text:
        return await _again(request, principal, task_id, FormError(NEEDS_TEXT, "note-text"))
    if tier not in {t.value for t in Tier}:
        return await _again(request, principal, task_id, FormError(NEEDS_TIER, "tier-public"))
    fields = {"task_id": task_id, "text": text, "tier": tier}
    return await _submit(request, principal, task_id, subjects.CMD_TASK_NOTE, fields, "note-text")
