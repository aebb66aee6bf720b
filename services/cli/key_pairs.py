"""Making an Ed25519 key pair from the command line, as `admin signing-key create` and
`admin record-key create` both do."""

from __future__ import annotations

from pathlib import Path

from services.cli.client import errors, fail
from services.core.assertions import KeyFileProblem, create_key_pair, read_signer


def make_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """`<name>.key` (0600) and `<name>.pub` in `directory`, unless a pair is there already (then
    it is checked and kept); says which. One line and exit 1 when it cannot."""
    private_file, public_file = directory / f"{name}.key", directory / f"{name}.pub"
    existed = private_file.exists()
    try:
        create_key_pair(private_file, public_file)
        read_signer(private_file)
    except KeyFileProblem as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the key pair in {directory}: {exc.strerror}")
    kept = "Kept the key pair already" if existed else "Made a key pair"
    errors.print(f"{kept} in {directory}.", markup=False)
    return private_file, public_file
