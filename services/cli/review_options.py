"""Options shared by `timeline` and `review`: the output format, and the filters as people type
them (`completed` for task.completed, `peer-support` for peer_support)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, NoReturn

import typer

from schemas.events import KNOWN_TYPES
from schemas.report import Audience
from services.cli.client import errors
from services.cli.safe import terminal_safe


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MD = "md"
    HTML = "html"


FormatOpt = Annotated[
    str, typer.Option("--format", help="text, json, md (Markdown) or html (one file).")
]


def usage_error(message: str) -> NoReturn:
    """One line saying what was wrong with the command line; exit 2 as for any usage error."""
    errors.print(f"error: {terminal_safe(message)}", markup=False)
    raise typer.Exit(2)


def chosen_format(value: str, as_json: bool) -> Format:
    try:
        chosen = Format(value.strip().lower())
    except ValueError:
        usage_error(f"--format {value} is not available; expected one of text, json, md, html")
    if as_json and chosen not in (Format.TEXT, Format.JSON):
        usage_error(f"--json and --format {chosen} ask for different formats; give one")
    return Format.JSON if as_json else chosen


def _event_type(typed: str) -> str:
    """The event type `typed` names: a type (`task.completed`), its verb (`completed`, the
    task's when other families share it) or the start of one (`ack`, `task.ack`), when only one
    type fits."""
    wanted = typed.strip().lower().replace("-", "_")
    family, _, verb = wanted.rpartition(".")
    fits = sorted(
        known
        for known in KNOWN_TYPES
        if known.rpartition(".")[0].startswith(family) and known.rpartition(".")[2].startswith(verb)
    )
    exact = [known for known in fits if known.rpartition(".")[2] == verb]
    # A bare verb that several families share means the task's event (`completed`).
    tasks = [known for known in exact if known.startswith("task.")]
    if wanted in KNOWN_TYPES:
        return wanted
    if len(exact) == 1 or len(fits) == 1 or len(tasks) == 1:
        return (tasks or exact or fits)[0]
    if fits:
        usage_error(f"--type {typed} could be any of {', '.join(fits)}; give one of them")
    usage_error(f"unknown --type {typed}; expected one of {', '.join(sorted(KNOWN_TYPES))}")


def event_types(typed: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_event_type(t) for t in typed))


def role_ids(typed: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """The roster's role ids `typed` names, case and `-`/`_` aside."""
    by_form = {role.lower().replace("-", "_"): role for role in known}
    found = []
    for each in typed:
        role = by_form.get(each.strip().lower().replace("-", "_"))
        if role is None:
            usage_error(f"unknown --role {each}; expected one of {', '.join(sorted(known))}")
        found.append(role)
    return tuple(dict.fromkeys(found))


def text_width() -> int | None:
    """Columns to wrap text output at: COLUMNS when set, the terminal's on a terminal, else
    none (a pipe or a file gets one line per entry)."""
    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


AudienceOpt = Annotated[
    str,
    typer.Option(
        "--audience",
        help="public (public tasks, timings per family and phase), command (command staff) "
        "or full (reviewers).",
    ),
]
REPORT_FORMATS = (Format.HTML, Format.MD, Format.JSON)


def chosen_audience(value: str) -> Audience:
    try:
        return Audience(value.strip().lower())
    except ValueError:
        usage_error(f"--audience {value} is not one; expected one of public, command, full")


def report_format(value: str) -> Format:
    chosen = chosen_format(value, as_json=False)
    if chosen not in REPORT_FORMATS:
        usage_error(f"--format {value}: a report is html, md or json")
    return chosen
