"""Logging an incident from the console: `GET /incidents/new` (choose the type), then
`/incidents/new?type=T` (its title, severity, the attributes its playbooks declare as typed
fields, exercise and involved people), sent to `POST /incidents`, answered with a 303 to the
incident's page, or the form again with each field at fault named in an error summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from schemas import subjects
from schemas.attributes import AttributeRefused, checked
from schemas.enums import Severity
from schemas.limits import TITLE_MAX
from schemas.playbook import AttributeSpec, AttributeType, declared_for
from schemas.principals import Principal
from schemas.replies import LogIncidentResult, PlaybookDetail
from schemas.views import PlaybookInfo
from services.gateway.board import may_log
from services.gateway.console import console_of, console_router
from services.gateway.console_calls import FORM_KEY_FIELD, Done, form_key, perform, read
from services.gateway.pages import page
from services.gateway.refusals import ConsoleRefusal
from services.gateway.signed_in import signed_in, signed_in_form

router = console_router()

NOT_COMMAND = "Only command staff log incidents."
PAGE_STATUSES = frozenset({403, 404})


@dataclass
class Draft:
    """What the form holds, and what is wrong with it: (field id, message) in form order."""

    incident_type: str = ""
    title: str = ""
    severity: str = Severity.HIGH.value
    attributes: dict[str, str] = field(default_factory=dict)
    exercise: bool = False
    involved: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


async def _playbooks(request: Request, principal: Principal) -> list[PlaybookInfo]:
    found: list[PlaybookInfo] = await read(request, principal, subjects.QRY_PLAYBOOK_LIST, {})
    return found


async def _declared(
    request: Request, principal: Principal, books: list[PlaybookInfo], incident_type: str
) -> dict[str, AttributeSpec]:
    """The attributes this type's playbooks declare (one query per playbook of the type)."""
    details: list[PlaybookDetail] = [
        await read(request, principal, subjects.QRY_PLAYBOOK_GET, {"playbook_id": b.id})
        for b in books
        if incident_type in b.incident_types
    ]
    return declared_for((d.playbook for d in details), incident_type)


def _types(books: list[PlaybookInfo]) -> list[str]:
    return sorted({t for b in books for t in b.incident_types})


async def _form(
    request: Request, principal: Principal, draft: Draft, status: int = 200
) -> Response:
    books = await _playbooks(request, principal)
    types = _types(books)
    chosen = draft.incident_type if draft.incident_type in types else ""
    context = {
        "section": "board",
        "types": types,
        "draft": draft,
        "chosen": chosen,
        "declared": await _declared(request, principal, books, chosen) if chosen else {},
        "severities": [s.value for s in Severity],
        "members": sorted(console_of(request).rt.roster.members, key=lambda m: m.name),
        "form_key": form_key(),
    }
    return page(request, "incident_new.html", context, status=status)


@router.get("/incidents/new")
async def new_incident(
    request: Request,
    principal: Annotated[Principal, Depends(signed_in)],
    incident_type: Annotated[str, Query(alias="type")] = "",
) -> Response:
    if not may_log(request, principal):
        raise ConsoleRefusal(403, NOT_COMMAND)
    draft = Draft(incident_type=incident_type)
    if incident_type and incident_type not in _types(await _playbooks(request, principal)):
        message = f"No playbook handles incidents of type {incident_type}."
        draft.errors.append(("incident_type", message))
        return await _form(request, principal, draft, status=404)
    return await _form(request, principal, draft)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _attribute_values(form: FormData, declared: Mapping[str, AttributeSpec]) -> dict[str, str]:
    """What was entered for each declared attribute; an unticked box is `false`, an empty field
    is left out (not known)."""
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if spec.type is AttributeType.BOOLEAN:
            values[name] = "true" if form.get(f"attr-{name}") == "true" else "false"
        elif raw := _text(form, f"attr-{name}"):
            values[name] = raw
    return values


def _read_draft(form: FormData, declared: Mapping[str, AttributeSpec]) -> Draft:
    draft = Draft(
        incident_type=_text(form, "incident_type"),
        title=_text(form, "title"),
        severity=_text(form, "severity"),
        attributes=_attribute_values(form, declared),
        exercise=form.get("exercise") == "true",
        involved=[v for v in form.getlist("involved") if isinstance(v, str) and v],
    )
    if not draft.title:
        draft.errors.append(("title", "Enter a title."))
    elif len(draft.title) > TITLE_MAX:
        draft.errors.append(("title", f"The title must be at most {TITLE_MAX} characters."))
    if draft.severity not in {s.value for s in Severity}:
        draft.errors.append(("severity", "Choose a severity."))
    for name, raw in draft.attributes.items():
        try:
            checked({name: raw}, declared, draft.incident_type)
        except AttributeRefused as exc:
            draft.errors.append((f"attr-{name}", str(exc).capitalize()))
    return draft


def _fields(draft: Draft) -> dict[str, Any]:
    return {
        "incident_type": draft.incident_type,
        "title": draft.title,
        "severity": draft.severity,
        "attributes": draft.attributes,
        "exercise": draft.exercise,
        "involved": tuple(draft.involved),
    }


@router.post("/incidents")
async def log_incident(
    request: Request, principal: Annotated[Principal, Depends(signed_in_form)]
) -> Response:
    form = await request.form()
    books = await _playbooks(request, principal)
    incident_type = _text(form, "incident_type")
    if incident_type not in _types(books):
        draft = Draft(errors=[("incident_type", "Choose the type of incident.")])
        return await _form(request, principal, draft, status=422)
    draft = _read_draft(form, await _declared(request, principal, books, incident_type))
    if draft.errors:
        return await _form(request, principal, draft, status=422)
    done = await perform(
        request, principal, subjects.CMD_INCIDENT_LOG, _fields(draft), _text(form, FORM_KEY_FIELD)
    )
    if isinstance(done, Done):
        assert isinstance(done.outcome.data, LogIncidentResult)
        address = f"/incidents/{done.outcome.data.incident.incident_id}"
        return RedirectResponse(address, status_code=303)
    if done.problem.status in PAGE_STATUSES:
        raise ConsoleRefusal(done.problem.status, done.message)
    draft.errors.extend(_problem_fields(done.problem.errors or [], done.message))
    return await _form(request, principal, draft, status=done.problem.status)


def _problem_fields(errors: list[Any], message: str) -> list[tuple[str, str]]:
    """The services' own refusal, each field it names pointed at its form field."""
    named = {"title", "severity", "incident_type", "involved", "exercise"}
    found = [
        (error.field if error.field in named else "log-form", f"{error.field}: {error.message}")
        for error in errors
    ]
    return found or [("log-form", message)]
