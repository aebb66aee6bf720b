"""pathways admin console-key: the web console's secret (form tokens, signed cookies).

`pathways up` makes it in its data directory by itself; a deployment makes it once with
`create` and mounts the same file in every gateway replica (PATHWAYS_CONSOLE_KEY_FILE), so a
form rendered by one replica is accepted by another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.cli.admin import app
from services.cli.client import errors, fail
from services.gateway.console_keys import ConsoleKeyProblem, create_console_key, read_console_keys

console_key = typer.Typer(
    help="The web console's secret: form tokens and signed cookies.", no_args_is_help=True
)
app.add_typer(console_key, name="console-key")

KeyFile = Annotated[
    Path, typer.Option("--file", help="Where to write the key (0600).", show_default=False)
]


@console_key.command("create")
def create(file: KeyFile) -> None:
    """Make the console's key, unless there is one already (then it is checked and kept)."""
    existed = file.exists()
    try:
        create_console_key(file)
        read_console_keys(file)
    except ConsoleKeyProblem as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the console key {file}: {exc.strerror}")
    verb = "Kept the console key already at" if existed else "Made the console key at"
    errors.print(f"{verb} {file}.", markup=False)
    errors.print(
        "Mount it in every gateway replica, readable by the gateway alone "
        "(PATHWAYS_CONSOLE_KEY_FILE).",
        markup=False,
    )
