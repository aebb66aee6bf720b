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
from services.cli.client import errors, fail
from services.core.assertions import KeyFileProblem, create_key_pair, read_signer

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
    private_file, public_file = directory / "principal.key", directory / "principal.pub"
    existed = private_file.exists()
    try:
        create_key_pair(private_file, public_file)
        read_signer(private_file)
    except KeyFileProblem as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the key pair in {directory}: {exc.strerror}")
    if existed:
        errors.print(f"Kept the key pair already in {directory}.", markup=False)
    else:
        errors.print(f"Made a key pair in {directory}.", markup=False)
    errors.print(
        f"Give {public_file} to every service (PATHWAYS_PRINCIPAL_PUBLIC_KEY_FILE) and "
        f"{private_file} to the gateway alone (PATHWAYS_PRINCIPAL_KEY_FILE).",
        markup=False,
    )
