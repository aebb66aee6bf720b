"""pathways admin signing-key: the key pair that vouches for who is asking.

The gateway signs each request's principal with the private key; every service checks it with
the public key (services.core.assertions). `pathways up` makes the pair in its data directory by
itself; a deployment makes it once with `create` and hands it out: the public key to every
service, the private key to the gateway alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.cli.admin import app
from services.cli.client import errors
from services.cli.key_pairs import make_key_pair

signing_key = typer.Typer(
    help="The key pair that vouches for who is asking (gateway signs, services check).",
    no_args_is_help=True,
)
app.add_typer(signing_key, name="signing-key")

Directory = Annotated[
    Path,
    typer.Option(
        "--dir", help="Where to write principal.key (0600) and principal.pub.", show_default=False
    ),
]


@signing_key.command("create")
def create(directory: Directory) -> None:
    """Make a new key pair, unless one is there already (then it is checked and kept)."""
    private_file, public_file = make_key_pair(directory, "principal")
    errors.print(
        f"Give {public_file} to every service (PATHWAYS_PRINCIPAL_PUBLIC_KEY_FILE) and "
        f"{private_file} to the gateway alone (PATHWAYS_PRINCIPAL_KEY_FILE).",
        markup=False,
    )
