"""Restricted text sealed with AES-256-GCM, one key per scope, the keys outside NATS.

A scope (`team.<id>`, `org.<id>`) has its own key versions in the key directory
(`services.core.keyfiles`): the newest seals new text, the older ones still open what they
sealed, so a rotation loses nothing. Erasing a scope's keys erases every note sealed for it:
nothing else holds a copy (crypto-shredding). Each ciphertext is bound to its context (task,
author, field…), so one moved elsewhere does not open.

A ring re-reads the directory at most once per `refresh_seconds`, so an erase by another process
takes effect without a restart.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.sealed import NONCE_BYTES, SEALED_TEXT_MAX, Sealed
from services.core.keyfiles import (
    SCOPE,
    KeyDirectory,
    KeyMissing,
    KeyringError,
    KeyringInsecure,
    ScopeKeys,
    b64url,
    from_b64url,
    new_version,
)

__all__ = [
    "Erased",
    "KeyMissing",
    "Keyring",
    "KeyringError",
    "KeyringInsecure",
    "ScopeKeys",
    "SealBroken",
    "check_scope",
]

ALG = "A256GCM"
REFRESH_SECONDS = 1.0


class SealBroken(ValueError):
    """Sealed text that does not open with its key: altered, or moved from its context."""


@dataclass(frozen=True)
class Erased:
    """What opening gives once the scope's key (or that version of it) has been erased."""

    scope: str
    key_id: str


def check_scope(scope: str) -> str:
    if not SCOPE.match(scope):
        raise KeyringError(
            f"invalid scope {scope[:80]!r}: expected team.<team-id> or org.<organisation-id>"
        )
    return scope


class Keyring:
    def __init__(
        self,
        directory: Path,
        *,
        create_missing: bool = False,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = KeyDirectory(directory)
        # Embedded mode makes a scope's key when its first text is sealed; a deployment that
        # mounts its keys read-only refuses instead, naming `pathways admin keys ensure`.
        self.create_missing = create_missing
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._cached: dict[str, ScopeKeys] = {}
        self._loaded_at: float | None = None

    def seal(self, scope: str, plaintext: str, aad: Mapping[str, str]) -> Sealed:
        """Seal `plaintext` for `scope`, bound to `aad` (task, author, field…): it opens only
        with the same context."""
        if len(plaintext) > SEALED_TEXT_MAX:
            raise ValueError(
                f"text too long to seal: {len(plaintext):,} characters, "
                f"the limit is {SEALED_TEXT_MAX:,}"
            )
        keys = self._current().get(check_scope(scope))
        if keys is None:
            keys = self.ensure(scope)[0] if self.create_missing else self._missing(scope)
        version = keys.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        bound = _aad(scope, version.key_id, aad)
        body = AESGCM(version.secret).encrypt(nonce, plaintext.encode(), bound)
        return Sealed(
            alg=ALG,
            scope=scope,
            key_id=version.key_id,
            nonce=b64url(nonce),
            ciphertext=b64url(body),
        )

    def open(self, sealed: Sealed, aad: Mapping[str, str]) -> str | Erased:
        """The text, or Erased when its key is gone; SealBroken when it was altered or does not
        belong to this context."""
        keys = self._current().get(sealed.scope)
        version = keys.find(sealed.key_id) if keys is not None else None
        if version is None:
            return Erased(sealed.scope, sealed.key_id)
        try:
            nonce, body = from_b64url(sealed.nonce), from_b64url(sealed.ciphertext)
            bound = _aad(sealed.scope, sealed.key_id, aad)
            return AESGCM(version.secret).decrypt(nonce, body, bound).decode()
        except (InvalidTag, binascii.Error, UnicodeDecodeError):
            raise SealBroken(
                f"sealed text for {sealed.scope} (key {sealed.key_id}) does not open: it was "
                "altered, or belongs to another task or field"
            ) from None

    def scopes(self) -> list[ScopeKeys]:
        """Every scope with a key, read from the directory now."""
        return sorted(self.keys.load().values(), key=lambda keys: keys.scope)

    def ensure(self, scope: str) -> tuple[ScopeKeys, bool]:
        """The scope's keys, made first if it has none; True when this call made them."""
        existing = self.keys.read(check_scope(scope))
        if existing is not None:
            return existing, False
        with self._changing(f"cannot create a key for {scope}"):
            existing = self.keys.read(scope)  # another process may have won the race
            if existing is not None:
                return existing, False
            made = ScopeKeys(scope, (new_version(),))
            self.keys.write(made)
        return made, True

    def rotate(self, scope: str) -> ScopeKeys:
        """A new key seals from now on; the older ones stay to open what they sealed."""
        with self._changing(f"cannot rotate the key of {check_scope(scope)}"):
            existing = self.keys.read(scope) or self._missing(scope)
            taken = frozenset(v.key_id for v in existing.versions)
            rotated = ScopeKeys(scope, (*existing.versions, new_version(taken)))
            self.keys.write(rotated)
        return rotated

    def erase(self, scope: str) -> None:
        """Overwrite the scope's keys, then unlink them: what they sealed can never be read."""
        with self._changing(f"cannot erase the key of {check_scope(scope)}"):
            self.keys.shred(scope)

    @contextlib.contextmanager
    def _changing(self, doing: str) -> Iterator[None]:
        try:
            with self.keys.locked(doing):
                yield
        finally:
            self._loaded_at = None  # this ring sees its own change at once

    def _missing(self, scope: str) -> NoReturn:
        raise KeyMissing(
            f"no key for {scope} in {self.keys.path}: run `pathways admin keys ensure {scope}`"
        )

    def _current(self) -> dict[str, ScopeKeys]:
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self.refresh_seconds:
            self._cached, self._loaded_at = self.keys.load(), now
        return self._cached


def _aad(scope: str, key_id: str, context: Mapping[str, str]) -> bytes:
    """The context a ciphertext is bound to, in one canonical form (no separator to forge)."""
    bound = {"alg": ALG, "scope": scope, "key_id": key_id, "context": dict(context)}
    return json.dumps(bound, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
