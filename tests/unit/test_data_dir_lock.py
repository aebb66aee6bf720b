"""One data directory, one holder: the lock names who has it and is free once released."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.core.datadir import DataDirBusy, DataDirLock


def test_a_second_lock_on_the_same_directory_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path / "data")
    first.acquire()
    try:
        assert (tmp_path / "data" / "pathways.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(DataDirBusy) as busy:
            DataDirLock(tmp_path / "data").acquire()
        message = str(busy.value)
        assert f"pid {os.getpid()} (" in message and "--data-dir" in message
        assert "\n" not in message
    finally:
        first.release()
    again = DataDirLock(tmp_path / "data")
    again.acquire()  # free once released, though the file is still there
    again.release()


def test_other_directories_are_not_affected(tmp_path: Path) -> None:
    first, other = DataDirLock(tmp_path / "a"), DataDirLock(tmp_path / "b")
    first.acquire()
    other.acquire()
    first.release()
    other.release()
