"""The playbook library and example roster that ship with Pathways, used when the working
directory has none of its own — so `pathways up` works from anywhere."""

from __future__ import annotations

from pathlib import Path

import services

_PACKAGE = Path(services.__file__).resolve().parent
# In an installed wheel they are package data (pyproject force-include); in a checkout (an
# editable install) they are the repository's own folders.
_CANDIDATES = (_PACKAGE / "bundled", _PACKAGE.parent)


def _shipped(relative: str) -> Path:
    for base in _CANDIDATES:
        found = base / relative
        if found.exists():
            return found
    return _CANDIDATES[0] / relative


def playbooks_dir(given: Path | None) -> Path:
    """The directory asked for; else ./playbooks if there is one; else the shipped library."""
    if given is not None:
        return given
    local = Path("playbooks")
    return local if local.is_dir() else _shipped("playbooks")


def roster_file(given: Path | None) -> Path:
    """The roster asked for; else ./rosters/example.yaml if there is one; else the shipped one."""
    if given is not None:
        return given
    local = Path("rosters") / "example.yaml"
    return local if local.is_file() else _shipped("rosters/example.yaml")
