"""pathways task list | ack | start | complete | decline"""

from __future__ import annotations

from typing import Annotated

import typer

from schemas import subjects
from schemas.commands import ActOnTask, ListTasks, TaskVerb
from schemas.enums import TaskStatus
from schemas.limits import LIST_LIMIT_DEFAULT
from schemas.tasks import TaskSnapshot
from services.cli.client import acting, execute, make, new_request_id, person_option, request
from services.cli.options import DEFAULT_URL, Actor, Json, NatsUrl, RequestIdOpt
from services.cli.output import out, print_json, task_json, task_table
from services.cli.pages import CursorOpt, Every, Limit, fetch_pages, more_hint
from services.cli.restricted import sealed
from services.cli.safe import terminal_safe

app = typer.Typer(help="List tasks and act on them.", no_args_is_help=True)

TaskArg = Annotated[
    str, typer.Argument(metavar="TASK", help="Task id, e.g. INC-1A2B3C4D.peer-support-defusing")
]


@app.command("list")
def list_tasks(
    incident: Annotated[
        str | None, typer.Option("--incident", help="Only this incident's tasks.")
    ] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="Only tasks with this person.")
    ] = None,
    status: Annotated[TaskStatus | None, typer.Option("--status")] = None,
    viewer: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="PATHWAYS_ACTOR",
            help="Who is reading (example roster and exercises only).",
        ),
    ] = None,
    limit: Limit = LIST_LIMIT_DEFAULT,
    cursor: CursorOpt = None,
    every: Every = False,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """List tasks: newest incident first, by deadline within an incident."""
    query = make(
        ListTasks,
        incident_id=incident,
        assignee=assignee,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    person_option(viewer, "--as")
    listed = fetch_pages(nats_url, subjects.QRY_TASK_LIST, query, every, reader=viewer)
    items, page = execute(listed)
    tasks = [TaskSnapshot.model_validate(t) for t in items]
    command = ["pathways", "task", "list"]
    for flag, value in (("--incident", incident), ("--assignee", assignee), ("--as", viewer)):
        command += [flag, value] if value else []
    command += ["--status", status.value] if status else []
    command += ["--limit", str(limit)] if limit != LIST_LIMIT_DEFAULT else []
    if as_json:
        print_json([task_json(t) for t in tasks])
    elif tasks:
        out.print(task_table(tasks))
    else:
        out.print("No tasks match.")
    # Last, where someone reading a terminal looks for what comes next.
    more_hint(page, command + (["--json"] if as_json else []))


_PAST = {
    TaskVerb.ACKNOWLEDGE: "acknowledged",
    TaskVerb.START: "started",
    TaskVerb.COMPLETE: "completed",
    TaskVerb.DECLINE: "declined",
}


def act(
    verb: TaskVerb,
    task_id: str,
    actor: str,
    note: str | None,
    reason: str | None,
    request_id: str | None,
    as_json: bool,
    nats_url: str,
) -> None:
    command = make(
        ActOnTask,
        request_id=request_id or new_request_id(),
        actor=actor,
        verb=verb,
        task_id=task_id,
        note=note,
        reason=reason,
    )
    reply = execute(request(nats_url, subjects.CMD_TASK_ACT, sealed(nats_url, command)))
    task = TaskSnapshot.model_validate(reply.data)
    if as_json:
        print_json({"task": task_json(task), "changed": reply.changed, "notice": reply.notice})
    elif not reply.changed:
        out.print(
            f"{task.task_id} was already {_PAST[verb]}; "
            f"nothing changed (status {task.status.value})."
        )
    elif verb is TaskVerb.DECLINE:
        out.print(f"{task.task_id} declined by {actor}.")
        if reply.notice:
            out.print(terminal_safe(reply.notice), soft_wrap=True, markup=False)
    else:
        out.print(f"{task.task_id} {_PAST[verb]} by {actor} (status {task.status.value}).")


@app.command("ack")
def ack(
    task_id: TaskArg,
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Acknowledge a task assigned to you."""
    actor = acting(actor)
    act(TaskVerb.ACKNOWLEDGE, task_id, actor, None, None, request_id, as_json, nats_url)


@app.command("start")
def start(
    task_id: TaskArg,
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Start work on a task assigned to you."""
    actor = acting(actor)
    act(TaskVerb.START, task_id, actor, None, None, request_id, as_json, nats_url)


@app.command("complete")
def complete(
    task_id: TaskArg,
    note: Annotated[
        str | None, typer.Option("--note", help="What was done (kept at the task's tier).")
    ] = None,
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Complete a task assigned to you, with a note."""
    actor = acting(actor)
    act(TaskVerb.COMPLETE, task_id, actor, note, None, request_id, as_json, nats_url)


@app.command("decline")
def decline(
    task_id: TaskArg,
    reason: Annotated[str, typer.Option("--reason", help="Why; the task goes to the next person.")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Decline a task; it goes back to the pool and to the next person in the role."""
    actor = acting(actor)
    act(TaskVerb.DECLINE, task_id, actor, None, reason, request_id, as_json, nats_url)
