"""Roster versions as the roster bucket keeps them. A version is the roster's canonical JSON,
named by its content hash, so the same roster loaded twice is one version; `current` says which
version is in force, who put it there and when."""

from __future__ import annotations

import hashlib

from pydantic import Field

from schemas.base import Contract, PersonId, UtcDateTime
from schemas.roster import Roster

CURRENT_KEY = "current"
AWAY_KEY = "away"
VERSION_LENGTH = 12


def version_key(version: str) -> str:
    return f"version.{version}"


class RosterVersion(Contract):
    """The value of `current`: the version in force."""

    version: str = Field(pattern=r"^[0-9a-f]{12}$")
    loaded_by: PersonId
    loaded_at: UtcDateTime
    source: str = Field(default="", max_length=500, description="The file it was loaded from")


def canonical_json(roster: Roster) -> bytes:
    """The roster as stored: what was given (so a roster without `roles:` keeps the classic
    five), calendars inline, keys as the roster file writes them."""
    return roster.model_dump_json(by_alias=True, exclude_unset=True).encode()


def version_of(stored: bytes) -> str:
    return hashlib.sha256(stored).hexdigest()[:VERSION_LENGTH]


def roster_version(roster: Roster) -> str:
    return version_of(canonical_json(roster))


def read_roster(stored: bytes) -> Roster:
    """A stored version, read tolerantly: fields a newer version added are ignored."""
    return Roster.model_validate_json(stored, extra="ignore")
