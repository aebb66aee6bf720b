"""Secrets kept as files of random bytes in hex: the console's key and the action links' key.

Made once (two processes racing keep one), mode 0600, and refused when others may read them:
whoever reads one can forge what it signs."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class SecretFileProblem(Exception):
    """The file is missing, unreadable, too open or malformed; one line naming it."""


def create_secret_file(path: Path, size: int) -> None:
    """Write `size` new random bytes, in hex, unless the file is there already."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(size).hex().encode() + b"\n")


def read_secret_file(path: Path, size: int, what: str) -> bytes:
    """At least `size` bytes from the hex in `path`; `what` names the key in problems."""
    try:
        if path.stat().st_mode & 0o077:
            raise SecretFileProblem(f"{path} is readable by others; chmod 600 {path}")
        text = path.read_text().strip()
    except FileNotFoundError:
        raise SecretFileProblem(f"no {what} at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not text"
        raise SecretFileProblem(f"cannot read {path}: {reason}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < size:
        raise SecretFileProblem(
            f"{path} must hold {size} random bytes in hex (e.g. `openssl rand -hex {size}`)"
        )
    return secret
