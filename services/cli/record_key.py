"""pathways admin record-key: the key pair that seals the record.

The services that append events (intake, engine, notifier) seal each with the private key;
whoever verifies a record (`pathways timeline verify`, an oversight body) needs only the public
key (services.core.record_seal). `pathways up` makes the pair in its data directory by itself;
a deployment makes it once with `create` and hands it out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.cli.admin import app
from services.cli.client import errors
from services.cli.key_pairs import make_key_pair

record_key = typer.Typer(
    help="The key pair that seals the record (services seal, anyone verifies).",
    no_args_is_help=True,
)
app.add_typer(record_key, name="record-key")

Directory = Annotated[
    Path,
    typer.Option(
        "--dir", help="Where to write record.key (0600) and record.pub.", show_default=False
    ),
]


@record_key.command("create")
def create(directory: Directory) -> None:
    """Make a new key pair, unless one is there already (then it is checked and kept)."""
    private_file, public_file = make_key_pair(directory, "record")
    errors.print(
        f"Give {private_file} to intake, engine and notifier (PATHWAYS_RECORD_KEY_FILE), and "
        f"{public_file} to whoever verifies (PATHWAYS_RECORD_PUBLIC_KEY_FILE). Keep the "
        "private key off every other host: whoever holds it can seal a forgery.",
        markup=False,
    )
