"""pathways roster validate | load | show | who | away | back"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated

import typer

from schemas import subjects
from schemas.availability import duty
from schemas.base import utc_now
from schemas.oncall import zone
from schemas.roster import Member, Roster
from schemas.roster_commands import EndAway, LoadRoster, RecordAway
from schemas.roster_versions import canonical_json
from schemas.yaml_source import SourceInvalid
from services.cli.client import acting, errors, execute, fail, make, new_request_id, request
from services.cli.duty_output import duty_json, duty_text, local
from services.cli.options import DEFAULT_URL, Actor, Json, NatsUrl, RequestIdOpt
from services.cli.output import out, print_json
from services.cli.roster_output import roster_json, roster_text
from services.cli.roster_source import ShownRoster, from_server, shown_roster
from services.cli.safe import terminal_safe
from services.core import bundled
from services.core.library import load_roster
from services.core.times import BadTime, parse_time

app = typer.Typer(help="The roster: roles, organisations, teams and people.", no_args_is_help=True)

# No environment variable: without the flag, the roster in force on the server is shown.
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "--roster",
        help="Show this roster file instead of the one in force on the server.",
        show_default=False,
    ),
]


def roster_to_check_against(given: Path | None) -> tuple[Roster | None, int]:
    """The roster playbooks are checked against (the one `pathways up` would use), and how many
    problems it has; its problems are printed, and then there is no roster to check roles with."""
    file = bundled.roster_file(given)
    try:
        roster = load_roster(file)
    except SourceInvalid as exc:
        for problem in exc.errors:
            errors.print(terminal_safe(str(problem)), markup=False)
        return None, len(exc.errors)
    errors.print(terminal_safe(f"Roles checked against the roster {file}"), markup=False)
    return roster, 0


def _read_or_exit(file: Path) -> Roster:
    """The roster in a file; else one line per problem (no summary line: a file with one
    problem is one line, as editors and scripts expect) and exit 1."""
    try:
        return load_roster(file)
    except SourceInvalid as exc:
        for problem in exc.errors:
            errors.print(terminal_safe(str(problem)), markup=False)
        raise typer.Exit(1) from None


@app.command("validate")
def validate(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]",
            help="A roster file; default ./rosters/example.yaml, or the shipped example",
        ),
    ] = None,
) -> None:
    """Check a roster file; one line per problem with file, line, column and field."""
    file = bundled.roster_file(path)
    roster = _read_or_exit(file)
    out.print(
        terminal_safe(
            f"ok  {file}  {roster.agency}: {len(roster.members)} members, "
            f"{len(roster.roles)} roles, {len(roster.organisations)} organisations, "
            f"{len(roster.teams)} teams"
        ),
        markup=False,
    )


@app.command("load")
def load(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The roster file to put in force")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Validate a roster file and put it in force on every service, without a restart."""
    actor = acting(actor)
    roster = _read_or_exit(path)
    command = make(
        LoadRoster,
        request_id=request_id or new_request_id(),
        actor=actor,
        source=str(path)[:500],
        roster=json.loads(canonical_json(roster)),
    )
    reply = execute(request(nats_url, subjects.CMD_ROSTER_LOAD, command))
    assert isinstance(reply.data, dict)
    version, previous = reply.data["version"], reply.data["previous"]
    if as_json:
        print_json({"version": version, "previous": previous, "changed": reply.changed})
        return
    if not reply.changed:
        out.print(f"Roster {version} is already in force; nothing changed.", markup=False)
        return
    out.print(
        terminal_safe(
            f"Roster {version} is in force (was {previous}): {len(roster.members)} members, "
            f"{len(roster.roles)} roles. Tasks nobody could take are offered again."
        ),
        markup=False,
    )


@app.command("show")
def show(as_json: Json = False, file: FileOpt = None, nats_url: NatsUrl = DEFAULT_URL) -> None:
    """The roster in force (or a file): roles and who is on call, organisations, teams,
    members, and who is away."""
    shown = shown_roster(file, nats_url)
    if as_json:
        print_json(roster_json(shown.roster, shown.file, shown))
        return
    for block in roster_text(shown.roster, shown.file, shown):
        out.print(block)


@app.command("who")
def who(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="A role id, e.g. victim_advocate")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="When (default now); without an offset, the roster's time."),
    ] = None,
    as_json: Json = False,
    file: FileOpt = None,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Who is on call for a role and who is available, now or at --at."""
    shown = shown_roster(file, nats_url)
    problem = shown.roster.unknown_role(role)
    if problem is not None:
        fail(problem)
    where = zone(shown.roster.time_zone)
    moment = _when(at, where, "--at") if at else utc_now()
    found = duty(shown.roster, role, moment, shown.away)
    if as_json:
        print_json(duty_json(shown, found))
        return
    for block in duty_text(shown, found, where):
        out.print(block)


@app.command("away")
def away(
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Who is away")],
    starts: Annotated[str, typer.Option("--from", help="From when (a date or a time).")],
    until: Annotated[str, typer.Option("--until", help="Until when (a date or a time).")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Record someone away: they are offered no task and are on call for nothing meanwhile.
    Times without an offset are the person's local time."""
    actor = acting(actor)
    shown = execute(from_server(nats_url))
    where = zone(shown.roster.time_zone_of(_member_or_exit(shown, person)))
    command = make(
        RecordAway,
        request_id=request_id or new_request_id(),
        actor=actor,
        person=person,
        starts=_when(starts, where, "--from"),
        until=_when(until, where, "--until"),
    )
    reply = execute(request(nats_url, subjects.CMD_ROSTER_AWAY, command))
    if as_json:
        print_json({"id": person, "from": command.starts.isoformat(),
                    "until": command.until.isoformat(), "changed": reply.changed})  # fmt: skip
        return
    span = f"from {local(command.starts, where)} until {local(command.until, where)}"
    said = "is recorded away" if reply.changed else "was already recorded away"
    out.print(terminal_safe(f"{person} {said} {span}."), markup=False)


@app.command("back")
def back(
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Who is back")],
    actor: Actor = None,
    request_id: RequestIdOpt = None,
    as_json: Json = False,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """End the away period someone is in now: they are offered tasks again at once (later
    away periods stay)."""
    actor = acting(actor)
    _member_or_exit(execute(from_server(nats_url)), person)
    command = make(EndAway, request_id=request_id or new_request_id(), actor=actor, person=person)
    reply = execute(request(nats_url, subjects.CMD_ROSTER_BACK, command))
    if as_json:
        print_json({"id": person, "changed": reply.changed})
        return
    said = "is recorded back" if reply.changed else "was not recorded away now; nothing changed"
    out.print(terminal_safe(f"{person} {said}."), markup=False)


def _member_or_exit(shown: ShownRoster, person: str) -> Member:
    member = shown.roster.member(person)
    if member is None:
        fail(shown.roster.unknown_person(person) or f"no roster member {person}")
    return member


def _when(text: str, where: tzinfo, flag: str) -> datetime:
    try:
        return parse_time(text, where)
    except BadTime as exc:
        fail(f"{flag}: {exc}")
