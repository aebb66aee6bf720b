"""The live roster in every service: the stored version in force when there is one, else the
roster file; swapped without a restart whenever `pathways roster load` puts another in force.

Each process watches the `current` key of the roster bucket (a KV watch: an ordered consumer
the server pushes every change to). Should the watch stall or break, the key is also read every
`POLL_SECONDS`, so a process never keeps an old roster for long.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats.errors
from nats.js.kv import KeyValue

from schemas.roster import Roster
from schemas.roster_versions import CURRENT_KEY, RosterVersion
from services.core.logging import get_logger
from services.core.roster_store import read_current, read_version, store_version
from services.core.runtime import Runtime

log = get_logger(__name__)

POLL_SECONDS = 30.0
RETRY_SECONDS = 2.0


async def adopt(rt: Runtime, keep_file_version: bool) -> None:
    """At start: put the stored version in force if there is one. Otherwise the file stays in
    force, and (`keep_file_version`, the engine) its version is stored so that runs pinning it
    can be read back by any replica."""
    loaded = await read_current(rt.rosters)
    if loaded is not None and await _put_in_force(rt, loaded):
        log.info("roster_in_use", origin="stored", version=rt.roster_version)
        return
    if keep_file_version:
        await store_version(rt.rosters, rt.roster)
    log.info("roster_in_use", origin="file", version=rt.roster_version)


async def roster_for(rt: Runtime, version: str) -> Roster:
    """The roster version a run pinned, read once from the bucket; the roster in force for a
    run from before versions were pinned (no version), or one whose version is missing."""
    if not version or version == rt.roster_version:
        return rt.roster
    cached = rt.pinned_rosters.get(version)
    if cached is not None:
        return cached
    found = await read_version(rt.rosters, version)
    if found is None:
        log.warning("roster_version_missing", version=version)
        return rt.roster
    return rt.remember_roster(version, found)


async def _put_in_force(rt: Runtime, loaded: RosterVersion) -> bool:
    if loaded.version == rt.roster_version:
        rt.roster_loaded = loaded  # the same roster (the file's, or loaded again by someone)
        return True
    roster = await read_version(rt.rosters, loaded.version)
    if roster is None:
        log.error("roster_version_missing", version=loaded.version)
        return False
    before = rt.roster_version
    rt.use_roster(roster, loaded)
    if before != loaded.version:
        log.info("roster_swapped", version=loaded.version, previous=before)
    return True


async def follow(rt: Runtime) -> None:
    """Keep the roster in force up to date until cancelled."""
    while True:
        try:
            await _watch(rt, rt.rosters)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("roster_watch_failed", error=type(exc).__name__)
            await asyncio.sleep(RETRY_SECONDS)


async def _watch(rt: Runtime, kv: KeyValue) -> None:
    watcher = await kv.watch(CURRENT_KEY)
    try:
        while True:
            try:
                entry = await watcher.updates(timeout=POLL_SECONDS)  # type: ignore[no-untyped-call]
            except nats.errors.TimeoutError:
                loaded = await read_current(kv)
            else:
                if entry is None or entry.value is None or entry.operation is not None:
                    continue  # the end of what was there at the start, or a deleted key
                loaded = RosterVersion.model_validate_json(entry.value, extra="ignore")
            if loaded is not None and loaded != rt.roster_loaded:
                await _put_in_force(rt, loaded)
    finally:
        with contextlib.suppress(Exception):
            await watcher.stop()  # type: ignore[no-untyped-call]
