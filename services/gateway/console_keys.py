"""The console's secret: one file of 32 random bytes, from which each use gets a key of its own
(HMAC-SHA256 of the use's name), so a token made for one purpose never passes for another.

Kept like the principal key (services.core.assertions): mode 0600, refused when others may read
it; `pathways up` makes it the first time, a deployment mounts the same file in every gateway
replica (PATHWAYS_CONSOLE_KEY_FILE)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

from services.core.secret_files import SecretFileProblem, create_secret_file, read_secret_file

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
    create_secret_file(path, KEY_BYTES)


def read_console_keys(path: Path) -> ConsoleKeys:
    try:
        return ConsoleKeys(read_secret_file(path, KEY_BYTES, "console key"))
    except SecretFileProblem as exc:
        raise ConsoleKeyProblem(str(exc)) from None
