"""pathways task show | assign | claim | note"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.padding import Padding
from rich.text import Text

from schemas import subjects
from schemas.commands import AssignTask, ClaimTask, GetTask, NoteTask
from schemas.enums import Tier
from schemas.tasks import TaskSnapshot
from services.cli.client import acting, execute, make, new_request_id, person_option, request
from services.cli.listing import when
from services.cli.options import DEFAULT_URL, Actor, Json, NatsUrl, RequestIdOpt
from services.cli.output import (
    ack_overdue,
    completion_note,
    due_overdue,
    note_text,
    out,
    print_json,
    task_json,
)
from services.cli.restricted import sealed
from services.cli.safe import indented, terminal_safe
from services.cli.tasks import TaskArg, app


@app.command("show")
def show(
    task_id: TaskArg,
    viewer: Annotated[
        str | None,
        typer.Option("--as", envvar="PATHWAYS_ACTOR", help="Who is reading."),
    ] = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Everything about one task: its state, deadlines, instructions and notes."""
    query = make(GetTask, task_id=task_id)
    person_option(viewer, "--as")
    reply = execute(request(nats_url, subjects.QRY_TASK_GET, query, reader=viewer))
    task = TaskSnapshot.model_validate(reply.data)
    if as_json:
        print_json(task_json(task))
        return
    for line in task_lines(task, datetime.now(UTC)):
        out.print(line)


def task_lines(task: TaskSnapshot, now: datetime) -> list[Text | Padding | str]:
    facts = [
        f"status {task.status.value}",
        f"assignee {task.assignee or 'nobody'}",
        f"role {task.role}",
        *([f"phase {task.phase}"] if task.phase else []),
        f"tier {task.tier.value}",
        "required" if task.required else "optional",
    ]
    lines: list[Text | Padding | str] = [
        Text(task.task_id, style="bold"),
        Padding(Text(terminal_safe(task.title)), (0, 0, 0, 2), expand=False),
        Text("  " + " · ".join(facts)),
        Text(
            f"  acknowledge by {when(task.acknowledge_by, now, overdue=ack_overdue(task, now))}"
            f" · due by {when(task.due_by, now, overdue=due_overdue(task, now))} (UTC)"
        ),
    ]
    if task.depends_on:
        lines.append(Text(f"  after {', '.join(task.depends_on)}"))
    if task.declined_by:
        lines.append(Text(f"  declined by {', '.join(task.declined_by)}"))
    if task.follow_up_of:
        lines.append(Text(f"  follow-up of {task.follow_up_of}"))
    if task.instructions.strip():
        lines += ["", Text("Instructions", style="bold")]
        lines.append(
            Padding(Text(indented(task.instructions.strip(), "")), (0, 0, 0, 2), expand=False)
        )
    if task.notes:
        lines += ["", Text("Notes", style="bold")]
        for note in task.notes:
            head = f"  {when(note.at, now)}  {note.author} ({note.tier.value}): "
            lines.append(Text(head + indented(note_text(note), " " * len(head))))
    if task.note or task.note_sealed:
        lines += ["", Text("Completion note", style="bold")]
        lines.append(Text("  " + indented(completion_note(task) or "", "  ")))
    return lines


@app.command("assign")
def assign(
    task_id: TaskArg,
    to: Annotated[str, typer.Option("--to", help="Who takes the task (a roster member id).")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Give a task to an eligible person (command staff); their clock starts now."""
    actor = acting(actor)
    command = make(
        AssignTask, request_id=request_id or new_request_id(), actor=actor, task_id=task_id, to=to
    )
    _send(nats_url, subjects.CMD_TASK_ASSIGN, command, as_json,
          done="{id} assigned to {assignee} by " + actor + ".",
          already="{id} is already with {assignee}; nothing changed.")  # fmt: skip


@app.command("claim")
def claim(
    task_id: TaskArg,
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Take a task nobody has, if you hold its role."""
    actor = acting(actor)
    command = make(
        ClaimTask, request_id=request_id or new_request_id(), actor=actor, task_id=task_id
    )
    _send(nats_url, subjects.CMD_TASK_CLAIM, command, as_json,
          done="{id} is yours: acknowledge it with pathways task ack.",
          already="{id} is already yours; nothing changed.")  # fmt: skip


@app.command("note")
def note(
    task_id: TaskArg,
    text: Annotated[str, typer.Option("--text", help="The note.")],
    tier: Annotated[
        Tier, typer.Option("--tier", help="Who may read it: public, command or restricted.")
    ],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Add a note to a task, as an entry of its own (author, time, tier)."""
    actor = acting(actor)
    command = make(
        NoteTask,
        request_id=request_id or new_request_id(),
        actor=actor,
        task_id=task_id,
        text=text,
        tier=tier,
    )
    _send(nats_url, subjects.CMD_TASK_NOTE, sealed(nats_url, command), as_json,
          done="Note added to {id} (" + tier.value + ").",
          already="That note is already on {id}; nothing changed.")  # fmt: skip


def _send(
    nats_url: str, subject: str, command: BaseModel, as_json: bool, *, done: str, already: str
) -> None:
    """Send a task command and say what came of it: `done` or `already` with the task's {id}
    and {assignee} filled in, or the stable JSON."""
    reply = execute(request(nats_url, subject, command))
    task = TaskSnapshot.model_validate(reply.data)
    if as_json:
        print_json({"task": task_json(task), "changed": reply.changed})
        return
    text = done if reply.changed else already
    out.print(text.format(id=task.task_id, assignee=task.assignee or "nobody"), markup=False)
