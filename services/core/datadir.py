"""One data directory, one `pathways up`: an OS lock on <data-dir>/pathways.lock.

The lock is `flock`: the kernel drops it when the holder exits, however it exits, so a stale
lock file never keeps anyone out. The holder's pid is written in the file to be named when a
second `pathways up` is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_NAME = "pathways.lock"


class DataDirBusy(Exception):
    pass


def command_of(pid: int) -> str:
    """The command line of a running process, or '' where it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode(errors="replace").strip()
    if not text.isdigit():
        return "another process"
    command = command_of(int(text))
    return f"pid {text} ({command})" if command else f"pid {text}"


def _unusable(data_dir: Path, exc: OSError) -> str:
    if data_dir.exists() and not data_dir.is_dir():
        return f"data directory {data_dir} is a file; choose a directory with --data-dir"
    reason = exc.strerror or type(exc).__name__
    return f"cannot use data directory {data_dir}: {reason.lower()}; choose another --data-dir"


def make_data_dir(data_dir: Path) -> None:
    """The data directory, made if missing; DataDirBusy naming why when it cannot be used
    (checked before anything is written in it: keys, passwords, the store)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirBusy(_unusable(data_dir, exc)) from None
    if not data_dir.is_dir():
        raise DataDirBusy(_unusable(data_dir, NotADirectoryError()))


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise DataDirBusy naming who holds it (or why the directory
        cannot be used)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DataDirBusy(_unusable(self.path.parent, exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise DataDirBusy(
                f"data directory {self.path.parent} is in use by {holder}; stop it first, "
                "or choose another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)
