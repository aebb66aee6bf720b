"""The key directory: one file per scope, `<scope>.key`, holding its key versions.

The directory must be 0700 and every key file 0600: a directory that others could read is
refused rather than used. Changes are made under an `flock` on `<dir>/.lock`, each file replaced
whole (a crash leaves the old file or the new one, never half of one), and the bytes a change or
an erase leaves behind are overwritten before they are let go.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.sealed import KEY_ID_PATTERN, SCOPE_PATTERN

KEY_BYTES = 32  # AES-256
KEY_SUFFIX = ".key"
LOCK_NAME = ".lock"
SCOPE = re.compile(SCOPE_PATTERN)
_KEY_ID = re.compile(KEY_ID_PATTERN)


class KeyringError(Exception):
    """The keys cannot be used as asked; the message is one line naming the path."""


class KeyringInsecure(KeyringError):
    """The key directory or a key file is open to group or others."""


class KeyMissing(KeyringError):
    """The scope has no key (never made, or erased)."""


@dataclass(frozen=True)
class KeyVersion:
    key_id: str
    created_at: datetime
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class ScopeKeys:
    scope: str
    versions: tuple[KeyVersion, ...]  # oldest first; the last seals new text

    @property
    def current(self) -> KeyVersion:
        return self.versions[-1]

    def find(self, key_id: str) -> KeyVersion | None:
        return next((v for v in self.versions if v.key_id == key_id), None)


def new_version(taken: frozenset[str] = frozenset()) -> KeyVersion:
    key_id = secrets.token_hex(4)
    while key_id in taken:
        key_id = secrets.token_hex(4)
    return KeyVersion(key_id, datetime.now(UTC), AESGCM.generate_key(256))


class KeyDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    def file(self, scope: str) -> Path:
        return self.path / f"{scope}{KEY_SUFFIX}"

    def load(self) -> dict[str, ScopeKeys]:
        """Every scope's keys; none while the directory does not exist."""
        if not self._exists_privately():
            return {}
        found: dict[str, ScopeKeys] = {}
        for entry in self.path.iterdir():
            scope = entry.name.removesuffix(KEY_SUFFIX)
            if entry.name.endswith(KEY_SUFFIX) and SCOPE.match(scope):
                keys = self.read(scope)
                if keys is not None:  # unless erased meanwhile
                    found[scope] = keys
        return found

    def read(self, scope: str) -> ScopeKeys | None:
        if not self._exists_privately():
            return None
        path = self.file(scope)
        try:
            with _opened(path, os.O_RDONLY) as fd:
                _require_private(path, os.fstat(fd), "key file", "600")
                raw = os.read(fd, 1 << 20)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyringError(f"cannot read key file {path}: {_why(exc)}") from None
        return ScopeKeys(scope, _parse(path, raw))

    @contextlib.contextmanager
    def locked(self, doing: str) -> Iterator[None]:
        """Held while a scope's file changes, by one process at a time."""
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._exists_privately()
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyringError(f"{doing} in {self.path}: {_why(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def write(self, keys: ScopeKeys) -> None:
        """Replace the scope's file whole, then overwrite the old file's bytes, which would
        otherwise linger on the disk. Call it holding the lock."""
        path = self.file(keys.scope)
        temporary = self.path / f".{keys.scope}.{secrets.token_hex(4)}.tmp"
        try:
            with _opened(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600) as fd:
                os.write(fd, _render(keys))
                os.fsync(fd)
            with contextlib.ExitStack() as stack:
                old = stack.enter_context(_opened(path, os.O_WRONLY)) if path.exists() else None
                os.replace(temporary, path)
                _fsync(self.path)
                if old is not None:
                    _shred(old)
        finally:
            temporary.unlink(missing_ok=True)

    def shred(self, scope: str) -> None:
        """Overwrite the scope's file, then unlink it. Call it holding the lock."""
        path = self.file(scope)
        try:
            with _opened(path, os.O_WRONLY) as fd:
                _shred(fd)
            path.unlink()
        except FileNotFoundError:
            raise KeyMissing(f"no key for {scope} in {self.path}: nothing to erase") from None
        except OSError as exc:
            raise KeyringError(f"cannot erase key file {path}: {_why(exc)}") from None
        _fsync(self.path)

    def _exists_privately(self) -> bool:
        """False while the directory does not exist; refused when others may read it."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise KeyringError(f"cannot read key directory {self.path}: {_why(exc)}") from None
        if not stat.S_ISDIR(info.st_mode):
            raise KeyringError(f"key directory {self.path} is not a directory")
        _require_private(self.path, info, "key directory", "700")
        return True


def _require_private(path: Path, info: os.stat_result, what: str, mode: str) -> None:
    if info.st_mode & 0o077:
        raise KeyringInsecure(
            f"{what} {path} is open to group or others (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run `chmod {mode} {path}`"
        )


@contextlib.contextmanager
def _opened(path: Path, flags: int, mode: int = 0o600) -> Iterator[int]:
    fd = os.open(path, flags, mode)
    try:
        yield fd
    finally:
        os.close(fd)


def _shred(fd: int) -> None:
    os.pwrite(fd, secrets.token_bytes(os.fstat(fd).st_size), 0)
    os.fsync(fd)


def _fsync(directory: Path) -> None:
    with _opened(directory, os.O_RDONLY) as fd:
        os.fsync(fd)


def _why(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _render(keys: ScopeKeys) -> bytes:
    lines = [f"# Pathways keys for {keys.scope}, oldest first; the last seals new text.\n"]
    lines += [
        f"{v.key_id} {v.created_at.isoformat(timespec='seconds')} {b64url(v.secret)}\n"
        for v in keys.versions
    ]
    return "".join(lines).encode()


def _parse(path: Path, raw: bytes) -> tuple[KeyVersion, ...]:
    versions: list[KeyVersion] = []
    for number, line in enumerate(raw.decode(errors="replace").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            version = _parse_line(line)
            if version is None:
                raise KeyringError(f"key file {path} line {number}: expected KEY-ID CREATED KEY")
            versions.append(version)
    if not versions:
        raise KeyringError(f"key file {path} holds no key")
    return tuple(versions)


def _parse_line(line: str) -> KeyVersion | None:
    fields = line.split()
    if len(fields) != 3 or not _KEY_ID.match(fields[0]):
        return None
    try:
        version = KeyVersion(fields[0], datetime.fromisoformat(fields[1]), from_b64url(fields[2]))
    except (ValueError, binascii.Error):
        return None
    return version if len(version.secret) == KEY_BYTES else None


def b64url(raw: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(raw) != text:  # one text per value: stray bits in the last character are refused
        raise binascii.Error("not canonical base64url")
    return raw
