"""pathways playbook list | show | validate | trigger | cancel"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from schemas import subjects
from schemas.commands import CancelPlaybook, GetPlaybook, ListPlaybooks, TriggerPlaybook
from schemas.playbook import playbook_json_schema
from schemas.views import PlaybookInfo
from schemas.yaml_source import SourceInvalid
from services.cli.client import acting, errors, execute, fail, make, new_request_id, request
from services.cli.options import (
    DEFAULT_URL,
    Actor,
    Json,
    NatsUrl,
    RequestIdOpt,
    RosterFile,
)
from services.cli.output import out, print_json
from services.cli.rosters import roster_to_check_against
from services.cli.safe import terminal_safe
from services.core import bundled
from services.core.library import playbook_files, read_playbook

app = typer.Typer(
    help="Response playbooks: list, read, validate, trigger, cancel.", no_args_is_help=True
)


@app.command("list")
def list_playbooks(as_json: Json = False, nats_url: NatsUrl = DEFAULT_URL) -> None:
    """List the playbooks the running engine knows."""
    reply = execute(request(nats_url, subjects.QRY_PLAYBOOK_LIST, ListPlaybooks()))
    assert isinstance(reply.data, list)
    books = [PlaybookInfo.model_validate(b) for b in reply.data]
    if as_json:
        print_json([{"id": b.id, **b.model_dump(mode="json", exclude={"id"})} for b in books])
        return
    for book in books:
        auto = "automatic" if book.auto else "by hand"
        out.print(
            f"[bold]{book.id}[/]  {book.title}  ({book.task_count} tasks, version {book.version})"
        )
        out.print(
            f"  triggers on {', '.join(book.incident_types)} from severity "
            f"{book.min_severity.value}, {auto}"
        )


@app.command("show")
def show_playbook(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    version: Annotated[
        str | None,
        typer.Option("--version", help="A content hash: the playbook exactly as that version ran."),
    ] = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Print a playbook as the running engine has it, or as a given version ran."""
    query = make(GetPlaybook, playbook_id=name, version=version)
    reply = execute(request(nats_url, subjects.QRY_PLAYBOOK_GET, query))
    assert isinstance(reply.data, dict)
    if as_json:
        print_json({"id": name, **reply.data})
        return
    info = PlaybookInfo.model_validate(reply.data["info"])
    out.print(f"# {info.path}, version {info.version}", markup=False)
    source: str = reply.data["source"]
    sys.stdout.write("\n".join(terminal_safe(line) for line in source.split("\n")))


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of playbooks for editors (also in schemas/playbook.schema.json)."""
    sys.stdout.write(playbook_json_schema())


@app.command("validate")
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="Files or directories; default ./playbooks, or the shipped library",
        ),
    ] = None,
    roster: RosterFile = None,
) -> None:
    """Check playbook files, and their roles against the roster; every problem is reported with
    file, line and field."""
    files = playbook_files(paths or [bundled.playbooks_dir(None)])
    if not files:
        fail("no playbook files found")
    checked_against, problems = roster_to_check_against(roster)
    for path in files:
        try:
            pinned = read_playbook(path, checked_against)
        except SourceInvalid as exc:
            problems += len(exc.errors)
            for problem in exc.errors:
                errors.print(terminal_safe(str(problem)), markup=False)
            continue
        out.print(
            f"ok  {path}  {pinned.playbook.id} ({len(pinned.playbook.tasks)} tasks, "
            f"version {pinned.version})",
            markup=False,
        )
    if problems:
        fail(f"{problems} problem(s) in {len(files)} file(s)")


@app.command("trigger")
def trigger(
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT")],
    name: Annotated[str, typer.Argument(metavar="NAME")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Start a playbook for an incident (pins the playbook's current version)."""
    actor = acting(actor)
    command = make(
        TriggerPlaybook,
        request_id=request_id or new_request_id(),
        actor=actor,
        incident_id=incident_id,
        playbook_id=name,
    )
    reply = execute(request(nats_url, subjects.CMD_PLAYBOOK_TRIGGER, command))
    assert isinstance(reply.data, dict)
    if as_json:
        print_json(
            {
                "incident": reply.data["incident_id"],
                "playbook": reply.data["playbook_id"],
                "version": reply.data["version"],
                "tasks": reply.data["tasks"],
                "trigger": reply.data["trigger"],
                "run": reply.data["run"],
                "changed": reply.changed,
            }
        )
        return
    prefix = "Triggered" if reply.changed else "Already running:"
    out.print(
        f"{prefix} {reply.data['playbook_id']} (version {reply.data['version']}) for "
        f"{incident_id}: {reply.data['tasks']} tasks."
    )
    out.print(f"Next: pathways task list --incident {incident_id}")


@app.command("cancel")
def cancel(
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT")],
    reason: Annotated[str, typer.Option("--reason", help="Why the playbook is cancelled.")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Undo a playbook triggered by mistake: its open tasks are cancelled and nothing of it
    fires later; then another playbook can be triggered. Command staff only."""
    actor = acting(actor)
    command = make(
        CancelPlaybook,
        request_id=request_id or new_request_id(),
        actor=actor,
        incident_id=incident_id,
        reason=reason,
    )
    reply = execute(request(nats_url, subjects.CMD_PLAYBOOK_CANCEL, command))
    assert isinstance(reply.data, dict)
    data = reply.data
    if as_json:
        print_json(
            {
                "incident": data["incident_id"],
                "playbook": data["playbook_id"],
                "run": data["run"],
                "cancelled_by": data["cancelled_by"],
                "cancelled_tasks": data["cancelled_tasks"],
                "changed": reply.changed,
            }
        )
        return
    if not reply.changed:
        out.print(
            f"Playbook {data['playbook_id']} of {incident_id} was already cancelled by "
            f"{data['cancelled_by']}; nothing is pending."
        )
    else:
        out.print(
            f"Cancelled playbook {data['playbook_id']} on {incident_id}: "
            f"{data['cancelled_tasks']} open task(s) cancelled, its pending follow-ups removed; "
            "nothing of it fires later.",
            soft_wrap=True,
        )
    out.print(
        f"Trigger the right one with: pathways playbook trigger {incident_id} NAME --as YOU",
        soft_wrap=True,
    )
