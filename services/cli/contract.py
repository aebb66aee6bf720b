"""pathways asyncapi: the AsyncAPI document of what Pathways serves and publishes over NATS."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from services.cli.client import errors, fail

OutFile = Annotated[Path | None, typer.Option("--out", help="Write to this file.")]


def asyncapi(out_file: OutFile = None) -> None:
    """The AsyncAPI 3.0 document (JSON) of every command, query and event, with its schemas."""
    # Building it loads FastStream's specification code: only this command pays for it.
    from services.core.asyncapi import specification

    emit(specification(), out_file)


def emit(text: str, out_file: Path | None) -> None:
    """`text` on stdout, or written to `out_file` with a line on stderr saying so."""
    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        out_file.write_text(text)
    except OSError as exc:
        fail(f"cannot write {out_file}: {(exc.strerror or type(exc).__name__).lower()}")
    errors.print(f"Wrote {out_file}", markup=False)
