"""Reading playbooks and rosters from disk."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from schemas.oncall import MAX_CALENDAR_CHARS
from schemas.playbook import PinnedPlaybook
from schemas.playbook_validation import parse_playbook
from schemas.roster import Roster, parse_roster
from schemas.yaml_source import SourceError, SourceInvalid


def playbook_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            files.append(path)
    return files


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceInvalid(
            [SourceError(str(path), 1, 1, "", f"cannot read: {exc.strerror}")]
        ) from None


def read_playbook(path: Path, roster: Roster | None = None) -> PinnedPlaybook:
    """A playbook file, checked against the roster when one is given."""
    return parse_playbook(_read(path), str(path), roster)


def load_library(directory: Path, roster: Roster | None = None) -> dict[str, PinnedPlaybook]:
    """Every playbook in a directory by id, each checked against the roster when one is given;
    raises SourceInvalid with all problems of all files."""
    library: dict[str, PinnedPlaybook] = {}
    errors: list[SourceError] = []
    if not directory.is_dir():
        raise SourceInvalid([SourceError(str(directory), 1, 1, "", "playbook directory not found")])
    for path in playbook_files([directory]):
        try:
            pinned = read_playbook(path, roster)
        except SourceInvalid as exc:
            errors.extend(exc.errors)
            continue
        if pinned.playbook.id in library:
            other = library[pinned.playbook.id].path
            errors.append(SourceError(str(path), 1, 1, "id", f"id already used by {other}"))
        library[pinned.playbook.id] = pinned
    if errors:
        raise SourceInvalid(errors)
    return library


def load_roster(path: Path) -> Roster:
    """A roster file, with the on-call calendars it names by path read in (relative to it)."""
    return parse_roster(_read(path), str(path), partial(read_calendar, path.parent))


def read_calendar(directory: Path, name: str) -> str:
    found = directory / name
    with found.open("rb") as calendar:
        raw = calendar.read(MAX_CALENDAR_CHARS + 1)
    if len(raw) > MAX_CALENDAR_CHARS:
        raise ValueError(f"larger than {MAX_CALENDAR_CHARS:,} bytes")
    return raw.decode("utf-8")


def load_sources(playbooks: Path, roster_file: Path) -> tuple[dict[str, PinnedPlaybook], Roster]:
    """The roster, then the library checked against it (a playbook naming a role the roster
    does not declare is refused); raises SourceInvalid with the problems of both. When the
    roster itself is invalid the playbooks are still checked, for everything but its roles."""
    errors: list[SourceError] = []
    roster: Roster | None = None
    library: dict[str, PinnedPlaybook] = {}
    try:
        roster = load_roster(roster_file)
    except SourceInvalid as exc:
        errors.extend(exc.errors)
    try:
        library = load_library(playbooks, roster)
    except SourceInvalid as exc:
        errors.extend(exc.errors)
    if errors:
        raise SourceInvalid(errors)
    assert roster is not None
    return library, roster


def roles_without_holders(
    library: Iterable[PinnedPlaybook], roster: Roster
) -> dict[str, list[str]]:
    """Each role a playbook gives tasks to that no active roster member holds, with the
    playbooks that need it: their tasks would go to nobody."""
    missing: dict[str, list[str]] = {}
    for pinned in sorted(library, key=lambda p: p.playbook.id):
        for role in sorted({t.role for t in pinned.playbook.tasks}):
            if not roster.holders(role):
                missing.setdefault(role, []).append(pinned.playbook.id)
    return missing


def undeclared_roles(library: Iterable[PinnedPlaybook], roster: Roster) -> dict[str, list[str]]:
    """Each role a playbook gives tasks to that the roster does not declare, with the
    playbooks that need it: a roster put in force must declare them all."""
    missing: dict[str, list[str]] = {}
    for pinned in sorted(library, key=lambda p: p.playbook.id):
        for role in sorted({t.role for t in pinned.playbook.tasks}):
            if roster.role(role) is None:
                missing.setdefault(role, []).append(pinned.playbook.id)
    return missing
