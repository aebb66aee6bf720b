"""pathways review finding add | list, pathways review action add | list: the improvement plan
of an incident's after-action review."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from schemas import subjects
from schemas.enums import FindingKind, RoleFamily, TaskStatus
from schemas.improvement import (
    AddCorrectiveAction,
    AddFinding,
    CorrectiveAction,
    Finding,
    GetCorrectiveActions,
    GetFindings,
)
from schemas.tasks import TaskSnapshot
from services.cli.client import (
    acting,
    execute,
    fail,
    make,
    new_request_id,
    person_option,
    request,
)
from services.cli.listing import when
from services.cli.options import DEFAULT_URL, Actor, Json, NatsUrl, RequestIdOpt
from services.cli.output import out, print_json, task_json
from services.cli.safe import terminal_safe

findings = typer.Typer(help="Findings of the review: strengths and areas for improvement.",
                       no_args_is_help=True)  # fmt: skip
actions = typer.Typer(help="Corrective actions: tasks with an owner and a due date.",
                      no_args_is_help=True)  # fmt: skip
IncidentArg = Annotated[str, typer.Argument(metavar="INCIDENT")]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KIND = {FindingKind.STRENGTH: "strength", FindingKind.IMPROVEMENT: "area for improvement"}


@findings.command("add")
def add_finding(
    incident_id: IncidentArg,
    kind: Annotated[FindingKind, typer.Option("--kind", help="strength or improvement.")],
    text: Annotated[str, typer.Option("--text", help="The finding, one line.")],
    family: Annotated[
        RoleFamily | None, typer.Option("--family", help="The role family it is about.")
    ] = None,
    phase: Annotated[
        str | None, typer.Option("--phase", help="The playbook phase it is about.")
    ] = None,
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Record a strength or an area for improvement (command staff and reviewers)."""
    if family is not None and phase is not None:
        fail("give --family or --phase, not both: a finding is about one of them")
    actor = acting(actor)
    command = make(
        AddFinding,
        request_id=request_id or new_request_id(),
        actor=actor,
        incident_id=incident_id,
        kind=kind,
        text=text,
        family=family,
        phase=phase,
    )
    reply = execute(request(nats_url, subjects.CMD_REVIEW_FINDING, command))
    finding = Finding.model_validate(reply.data)
    if as_json:
        print_json({"finding": _finding_json(finding), "changed": reply.changed})
        return
    done = "Recorded" if reply.changed else "Already recorded"
    out.print(f"{done} finding {finding.finding_id} ({_KIND[finding.kind]}) on {incident_id}.",
              markup=False)  # fmt: skip


@findings.command("list")
def list_findings(
    incident_id: IncidentArg,
    viewer: Annotated[
        str | None, typer.Option("--as", envvar="PATHWAYS_ACTOR", help="Who is reading.")
    ] = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """The review's findings, in the order they were recorded."""
    query = make(GetFindings, incident_id=incident_id)
    person_option(viewer, "--as")
    reply = execute(request(nats_url, subjects.QRY_REVIEW_FINDINGS, query, reader=viewer))
    found = [Finding.model_validate(f) for f in reply.data or []]
    if as_json:
        print_json([_finding_json(f) for f in found])
        return
    if not found:
        hint = f"pathways review finding add {incident_id} --kind strength|improvement --text TEXT"
        out.print(f"No findings on {incident_id} yet. Record one with: {hint}", markup=False)
    now = datetime.now(UTC)
    for number, finding in enumerate(found, start=1):
        about = f"{finding.family or ''}{finding.phase or ''}" or "the response"
        out.print(f"{number}. {_KIND[finding.kind]} · {about} · {finding.recorded_by}, "
                  f"{when(finding.recorded_at, now)} UTC", markup=False)  # fmt: skip
        out.print(f"   {terminal_safe(finding.text)}", markup=False)


def _finding_json(finding: Finding) -> dict[str, Any]:
    return finding.model_dump(mode="json")


def due_fields(due: str) -> dict[str, Any]:
    """--due as the command carries it: a date, or a time with its offset; one line if not."""
    if _DATE.match(due):
        return {"due_on": due}
    try:
        moment = datetime.fromisoformat(due)
    except ValueError:
        fail(f"--due {due!r} is neither a date (YYYY-MM-DD) nor a time (2026-12-01T17:00Z)")
    if moment.tzinfo is None:
        fail(f"--due {due} has no time zone: add one (Z for UTC, or like +02:00)")
    if moment <= datetime.now(UTC):
        fail(f"--due {due} has passed: give a date still to come")
    return {"due_by": moment}


@actions.command("add")
def add_action(
    incident_id: IncidentArg,
    text: Annotated[str, typer.Option("--text", help="What is to be done, one line.")],
    owner: Annotated[str, typer.Option("--owner", help="Who does it (a roster member id).")],
    due: Annotated[str, typer.Option("--due", help="YYYY-MM-DD (the end of that day), or a time.")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Give a corrective action to its owner: a task like any other, due by --due."""
    fields = due_fields(due)
    actor = acting(actor)
    command = make(
        AddCorrectiveAction,
        request_id=request_id or new_request_id(),
        actor=actor,
        incident_id=incident_id,
        text=text,
        owner=owner,
        **fields,
    )
    reply = execute(request(nats_url, subjects.CMD_REVIEW_ACTION, command))
    task = TaskSnapshot.model_validate(reply.data)
    if as_json:
        print_json({"task": task_json(task), "changed": reply.changed})
        return
    due_by = f"{task.due_by:%Y-%m-%d %H:%M} UTC" if task.due_by else "no date"
    done = "Gave" if reply.changed else "Already gave"
    out.print(f"{done} corrective action {task.task_id} to {task.assignee}, due {due_by}.",
              markup=False)  # fmt: skip


@actions.command("list")
def list_actions(
    incident_id: IncidentArg,
    viewer: Annotated[
        str | None, typer.Option("--as", envvar="PATHWAYS_ACTOR", help="Who is reading.")
    ] = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """The corrective actions, each as it stands: status, owner, due date."""
    query = make(GetCorrectiveActions, incident_id=incident_id)
    person_option(viewer, "--as")
    reply = execute(request(nats_url, subjects.QRY_REVIEW_ACTIONS, query, reader=viewer))
    found = [CorrectiveAction.model_validate(a) for a in reply.data or []]
    if as_json:
        print_json([a.model_dump(mode="json") for a in found])
        return
    if not found:
        out.print(f"No corrective actions on {incident_id} yet. Give one with: pathways review "
                  f"action add {incident_id} --text TEXT --owner PERSON --due DATE",
                  markup=False)  # fmt: skip
    now = datetime.now(UTC)
    for action in found:
        out.print(" · ".join(_action_facts(action, now)), markup=False)
        out.print(f"   {terminal_safe(action.text)}", markup=False)
        if action.note:
            out.print(f"   note: {terminal_safe(action.note)}", markup=False)


def _action_facts(action: CorrectiveAction, now: datetime) -> list[str]:
    open_ = action.status not in (TaskStatus.COMPLETED, TaskStatus.CANCELLED)
    overdue = open_ and action.due_by is not None and action.due_by < now
    facts = [action.task_id, action.status.value, f"owner {action.owner or 'nobody'}",
             f"due {when(action.due_by, now, overdue=overdue)} UTC"]  # fmt: skip
    if action.escalations:
        facts.append(f"{action.escalations} escalation step(s)")
    if action.completed_at is not None:
        facts.append(f"completed {when(action.completed_at, now)} UTC")
    return facts
