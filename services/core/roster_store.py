"""The roster bucket: the version in force, every version loaded, and the away periods."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from schemas.availability import AwayRecords
from schemas.roster import Roster, RosterInconsistent
from schemas.roster_versions import (
    AWAY_KEY,
    CURRENT_KEY,
    RosterVersion,
    canonical_json,
    read_roster,
    version_key,
    version_of,
)
from services.core.logging import get_logger

log = get_logger(__name__)

ATTEMPTS = 5


class AwayChangedTooFast(Exception):
    pass


async def _value(kv: KeyValue, key: str) -> tuple[bytes, int] | None:
    try:
        entry = await kv.get(key)
    except KeyNotFoundError:  # also raised for a deleted or purged key
        return None
    if entry.value is None:
        return None
    return entry.value, entry.revision or 0


async def read_current(kv: KeyValue) -> RosterVersion | None:
    """The version in force, None while no roster was ever loaded (services use their file)."""
    found = await _value(kv, CURRENT_KEY)
    if found is None:
        return None
    try:
        return RosterVersion.model_validate_json(found[0], extra="ignore")
    except ValidationError:
        log.error("roster_current_unreadable")
        return None


async def read_version(kv: KeyValue, version: str) -> Roster | None:
    found = await _value(kv, version_key(version))
    if found is None:
        return None
    try:
        return read_roster(found[0])
    except (ValidationError, RosterInconsistent):
        log.error("roster_version_unreadable", version=version)
        return None


async def store_version(kv: KeyValue, roster: Roster) -> str:
    """Keep a roster under its content hash (once: a version never changes); its version."""
    stored = canonical_json(roster)
    version = version_of(stored)
    # Another replica may have stored the same version first; nats-py then reads the key back,
    # and on a cluster that read can reach a replica that has not applied it yet.
    with contextlib.suppress(KeyWrongLastSequenceError, KeyNotFoundError):
        await kv.create(version_key(version), stored)
    return version


async def put_current(kv: KeyValue, record: RosterVersion) -> None:
    await kv.put(CURRENT_KEY, record.model_dump_json().encode())


async def read_away(kv: KeyValue) -> AwayRecords:
    found = await _value(kv, AWAY_KEY)
    if found is None:
        return AwayRecords()
    try:
        return AwayRecords.model_validate_json(found[0], extra="ignore")
    except ValidationError:
        log.error("roster_away_unreadable")
        return AwayRecords()


async def change_away(
    kv: KeyValue, change: Callable[[AwayRecords], AwayRecords | None]
) -> tuple[AwayRecords, bool]:
    """Apply `change` (None: nothing to change) with compare-and-swap, deciding again if
    another request changed the away periods first. (records after, whether they changed)"""
    for _ in range(ATTEMPTS):
        found = await _value(kv, AWAY_KEY)
        before = AwayRecords() if found is None else AwayRecords.model_validate_json(found[0])
        after = change(before)
        if after is None:
            return before, False
        body = after.model_dump_json().encode()
        try:
            if found is None:
                await kv.create(AWAY_KEY, body)
            else:
                await kv.update(AWAY_KEY, body, last=found[1])
        except KeyWrongLastSequenceError:
            continue
        return after, True
    raise AwayChangedTooFast("the away periods are changing too fast; try again")
