"""pathways roster validate | show"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.roster import Roster
from schemas.yaml_source import SourceInvalid
from services.cli.client import errors, fail
from services.cli.options import Json, RosterFile
from services.cli.output import out, print_json
from services.cli.roster_output import roster_json, roster_text
from services.cli.safe import terminal_safe
from services.core import bundled
from services.core.library import load_roster

app = typer.Typer(help="The roster: roles, organisations, teams and people.", no_args_is_help=True)


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
    try:
        roster = load_roster(file)
    except SourceInvalid as exc:
        # No summary line: a file with one problem is one line, as editors and scripts expect.
        for problem in exc.errors:
            errors.print(terminal_safe(str(problem)), markup=False)
        raise typer.Exit(1) from None
    out.print(
        terminal_safe(
            f"ok  {file}  {roster.agency}: {len(roster.members)} members, "
            f"{len(roster.roles)} roles, {len(roster.organisations)} organisations, "
            f"{len(roster.teams)} teams"
        ),
        markup=False,
    )


@app.command("show")
def show(as_json: Json = False, roster: RosterFile = None) -> None:
    """Roles with their families and holders, organisations, teams and members."""
    file = bundled.roster_file(roster)
    try:
        loaded = load_roster(file)
    except SourceInvalid as exc:
        fail(f"{file}: {len(exc.errors)} problem(s); see: pathways roster validate {file}")
    if as_json:
        print_json(roster_json(loaded, file))
        return
    for block in roster_text(loaded, file):
        out.print(block)
