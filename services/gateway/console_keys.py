"""The console's secret: one file of 32 random bytes, from which each use gets a key of its own
(HMAC-SHA256 of the use's name), so a token made for one purpose never passes for another.

Kept like the principal key (services.core.assertions): mode 0600, refused when others may read
it; `pathways up` makes it the first time, a deployment mounts the same file in every gateway
replica (PATHWAYS_CONSOLE_KEY_FILE)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

KEY_BYTES = 32


class ConsoleKeyProblem(Exception):
    """The key file is missing, unreadable, too open or malformed; one line naming it."""


@dataclass(frozen=True)
class ConsoleKeys:
    secret: bytes = field(repr=False)

    def _derived(self, use: str) -> bytes:
        return hmac.new(self.secret, f"pathways console {use}".encode(), hashlib.sha256).digest()

    @property
    def csrf(self) -> bytes:
        """Signs the forms' tokens."""
        return self._derived("csrf")

    @property
    def cookies(self) -> bytes:
        """Signs cookies the browser holds before signing in (the sign-in form's, OIDC's)."""
        return self._derived("cookies")

    @property
    def oidc_state(self) -> bytes:
        """Signs the cookie that holds an OpenID Connect sign-in's state and nonce."""
        return self._derived("oidc state")

    @property
    def link_sessions(self) -> bytes:
        """Signs the cookie of a session opened from a partner's action link."""
        return self._derived("link sessions")

    @property
    def counters(self) -> bytes:
        """Names failed sign-in counters without writing down a username or an address."""
        return self._derived("counters")


def create_console_key(path: Path) -> None:
    """Write a new key unless there is one (two processes racing keep one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(KEY_BYTES).hex().encode() + b"\n")


def read_console_keys(path: Path) -> ConsoleKeys:
    try:
        if path.stat().st_mode & 0o077:
            raise ConsoleKeyProblem(f"{path} is readable by others; chmod 600 {path}")
        text = path.read_text().strip()
    except FileNotFoundError:
        raise ConsoleKeyProblem(f"no console key at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not text"
        raise ConsoleKeyProblem(f"cannot read {path}: {reason}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < KEY_BYTES:
        raise ConsoleKeyProblem(
            f"{path} must hold {KEY_BYTES} random bytes in hex (e.g. `openssl rand -hex 32`)"
        )
    return ConsoleKeys(secret)
