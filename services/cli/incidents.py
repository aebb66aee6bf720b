"""pathways incident log | show | list"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from schemas import subjects
from schemas.commands import (
    MAX_TIME_SCALE,
    CloseIncident,
    GetIncident,
    ListIncidents,
    ListTasks,
    LogIncident,
)
from schemas.enums import Severity, TaskStatus
from schemas.limits import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentListItem, IncidentSummary
from services.cli.client import acting, as_option, execute, fail, make, new_request_id, request
from services.cli.listing import when
from services.cli.options import DEFAULT_URL, Actor, Json, NatsUrl, RequestIdOpt
from services.cli.output import (
    attention,
    incident_json,
    incident_table,
    out,
    print_json,
    task_json,
    task_table,
)
from services.cli.pages import CursorOpt, Every, Limit, fetch_pages, more_hint
from services.cli.safe import indented, terminal_safe

app = typer.Typer(help="Log and read incidents.", no_args_is_help=True)


def parse_attributes(pairs: list[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--attr expects KEY=VALUE, got {pair!r}")
        attributes[key.strip()] = value.strip()
    return attributes


@app.command("log")
def log_incident(
    incident_type: Annotated[
        str, typer.Option("--type", help="Incident type, e.g. officer-involved-shooting.")
    ],
    title: Annotated[str, typer.Option("--title", help="A short description.")],
    severity: Annotated[Severity, typer.Option("--severity")] = Severity.HIGH,
    attr: Annotated[list[str] | None, typer.Option("--attr", help="KEY=VALUE, repeatable.")] = None,
    exercise: Annotated[
        bool, typer.Option("--exercise", help="A tabletop drill: marked as such everywhere.")
    ] = False,
    time_scale: Annotated[
        float,
        typer.Option(
            "--time-scale",
            help="With --exercise: multiply every window by this (0 < F ≤ 1000; 0.001: a day "
            "passes in 86 s).",
        ),
    ] = 1.0,
    involved: Annotated[
        list[str] | None,
        typer.Option("--involved", help="A roster member involved in the incident (repeatable)."),
    ] = None,
    manual: Annotated[
        bool, typer.Option("--manual", help="Do not trigger a playbook automatically.")
    ] = False,
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Log a high-profile incident; a matching playbook starts on its own."""
    actor = acting(actor)
    if not (math.isfinite(time_scale) and 0 < time_scale <= MAX_TIME_SCALE):
        fail(
            f"--time-scale must be a number above 0 and at most {MAX_TIME_SCALE:g} "
            f"(0.001: a day passes in 86 s), not {time_scale!r}"
        )
    command = make(
        LogIncident,
        request_id=request_id or new_request_id(),
        actor=actor,
        incident_type=incident_type,
        title=title,
        severity=severity,
        attributes=parse_attributes(attr or []),
        auto_trigger=not manual,
        involved=tuple(involved or ()),
        exercise=exercise,
        time_scale=time_scale,
    )
    reply = execute(request(nats_url, subjects.CMD_INCIDENT_LOG, command))
    assert isinstance(reply.data, dict)
    incident = IncidentSummary.model_validate(reply.data["incident"])
    automatic, suggested = reply.data["automatic_playbook"], reply.data["suggested_playbooks"]
    if as_json:
        print_json(
            {
                "incident": incident_json(incident),
                "changed": reply.changed,
                "automatic_playbook": automatic,
                "suggested_playbooks": suggested,
                "below_min_severity": reply.data.get("below_min_severity") or {},
            }
        )
        return
    verb = "Logged" if reply.changed else "Already logged"
    if incident.exercise:
        verb += " EXERCISE"
    out.print(
        f"{verb} {incident.incident_id} "
        f"({incident.incident_type}, severity {incident.severity.value})."
    )
    if incident.exercise and incident.time_scale != 1.0:
        day = 86400 * incident.time_scale
        out.print(f"Every window runs at {incident.time_scale:g}x: a day passes in {day:g} s.")
    if automatic:
        out.print(f"Playbook {automatic} is starting; its tasks are going out now.")
    elif suggested:
        out.print(f"Suggested playbooks: {', '.join(suggested)}")
        out.print(
            f"Start one with: pathways playbook trigger {incident.incident_id} {suggested[0]}"
        )
    elif held_back := reply.data.get("below_min_severity") or {}:
        for playbook, minimum in held_back.items():
            out.print(
                f"Playbook {playbook} starts at severity {minimum} or above; this incident is "
                f"{incident.severity.value}, so nothing started."
            )
        out.print(
            f"Start it anyway with: pathways playbook trigger {incident.incident_id} "
            f"{next(iter(held_back))}{as_option(actor)}"
        )
    else:
        out.print(
            f"No playbook is written for incident type {incident.incident_type}; "
            "trigger one by hand with: pathways playbook trigger INCIDENT NAME --as PERSON"
        )
    out.print(f"Next: pathways task list --incident {incident.incident_id}")


@app.command("show")
def show_incident(
    incident_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Show an incident and its tasks."""

    get_incident = make(GetIncident, incident_id=incident_id)
    list_tasks = make(ListTasks, incident_id=incident_id, limit=LIST_LIMIT_MAX)

    async def fetch() -> tuple[IncidentSummary, list[TaskSnapshot]]:
        incident = await request(nats_url, subjects.QRY_INCIDENT_GET, get_incident)
        tasks, _ = await fetch_pages(nats_url, subjects.QRY_TASK_LIST, list_tasks, every=True)
        return (
            IncidentSummary.model_validate(incident.data),
            [TaskSnapshot.model_validate(t) for t in tasks],
        )

    incident, tasks = execute(fetch())
    stranded = [t.task_id for t in tasks if t.status is TaskStatus.UNASSIGNED]
    if as_json:
        print_json(
            {
                **incident_json(incident),
                "needs_attention": stranded,
                "tasks": [task_json(t) for t in tasks],
            }
        )
        return
    out.print(f"[bold]{incident.incident_id}[/]  {escape(terminal_safe(incident.title))}")
    if incident.exercise:
        out.print(f"[bold]EXERCISE[/] (time scale {incident.time_scale:g})")
    out.print(
        f"type {incident.incident_type}, severity {incident.severity.value}, "
        f"status {incident.status.value}, "
        f"logged {when(incident.logged_at, datetime.now(UTC))} UTC by {incident.logged_by}"
    )
    if incident.involved:
        out.print(f"involved (never assigned its tasks): {', '.join(incident.involved)}")
    if incident.closed_at:
        reason = indented(incident.close_reason or "", "  ")
        out.print(
            f"closed {when(incident.closed_at, datetime.now(UTC))} UTC by {incident.closed_by}: "
            f"{reason}",
            markup=False,
        )
    if incident.playbook_id and incident.playbook_cancelled_at:
        reason = indented(incident.playbook_cancel_reason or "", "  ")
        out.print(
            f"playbook {incident.playbook_id} cancelled "
            f"{when(incident.playbook_cancelled_at, datetime.now(UTC))} UTC by "
            f"{incident.playbook_cancelled_by}: {reason}",
            markup=False,
        )
        out.print(f"Trigger another with: pathways playbook trigger {incident.incident_id} NAME")
    elif incident.playbook_id:
        current = [t for t in tasks if t.run == (incident.playbook_run or 1)]
        out.print(
            f"playbook {incident.playbook_id} (version {incident.playbook_version}), "
            f"{sum(t.status == 'completed' for t in current)}/{len(current)} tasks completed"
        )
    if stranded:
        out.print(
            f"[bold]NEEDS COMMAND ATTENTION[/]: {len(stranded)} task(s) with nobody to take "
            f"them: {', '.join(stranded)}"
        )
        out.print(f"Assign one with: pathways task assign {stranded[0]} --to PERSON --as YOU")
    # Tasks of runs cancelled before the current one are history: the timeline and task list
    # have them; this view is about the response under way.
    shown = [t for t in tasks if t.run >= (incident.playbook_run or 1)]
    if shown:
        out.print()
        out.print(task_table(shown))
    if len(shown) < len(tasks):
        out.print(
            f"{len(tasks) - len(shown)} task(s) of cancelled playbook runs not shown: "
            f"pathways task list --incident {incident.incident_id}"
        )


@app.command("list")
def list_incidents(
    limit: Limit = LIST_LIMIT_DEFAULT,
    cursor: CursorOpt = None,
    every: Every = False,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """List incidents, newest first."""
    query = make(ListIncidents, limit=limit, cursor=cursor)
    items, page = execute(fetch_pages(nats_url, subjects.QRY_INCIDENT_LIST, query, every))
    incidents = [IncidentListItem.model_validate(i) for i in items]
    command = ["pathways", "incident", "list"]
    command += ["--limit", str(limit)] if limit != LIST_LIMIT_DEFAULT else []
    if as_json:
        print_json(
            [{**incident_json(i), "unassigned_tasks": i.unassigned_tasks} for i in incidents]
        )
    elif incidents:
        out.print(incident_table(incidents))
        stranded = [i for i in incidents if attention(i)]
        if stranded:
            out.print(
                f"{len(stranded)} incident(s) need command attention: tasks with nobody to take "
                f"them. See: pathways incident show {stranded[0].incident_id}"
            )
    else:
        out.print("No incidents yet. Log one with: pathways incident log --type TYPE --title TEXT")
    # Last, where someone reading a terminal looks for what comes next.
    more_hint(page, command + (["--json"] if as_json else []))


@app.command("close")
def close_incident(
    incident_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why the response ends.")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """End the response (a real incident or an exercise): open tasks are cancelled and nothing
    pending fires later. Command staff only."""
    actor = acting(actor)
    command = make(
        CloseIncident,
        request_id=request_id or new_request_id(),
        actor=actor,
        incident_id=incident_id,
        reason=reason,
    )
    reply = execute(request(nats_url, subjects.CMD_INCIDENT_CLOSE, command))
    assert isinstance(reply.data, dict)
    if as_json:
        print_json({"incident": incident_id, "changed": reply.changed, **reply.data})
    elif reply.changed:
        out.print(
            f"Closed {incident_id}. Its open tasks are being cancelled and its pending "
            "follow-ups removed.",
            soft_wrap=True,
        )
    else:
        out.print(f"{incident_id} was already closed by {reply.data['closed_by']}.")
