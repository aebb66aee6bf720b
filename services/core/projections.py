"""Reading the key-value projections that back list queries."""

from __future__ import annotations

from nats.js.kv import KeyValue


async def values(bucket: KeyValue, key_filter: str = ">") -> list[bytes]:
    """The current value of every key matching the filter."""
    watcher = await bucket.watch(key_filter, ignore_deletes=True)
    found: list[bytes] = []
    try:
        async for entry in watcher:
            if entry is None:  # the watcher's marker: everything present has been delivered
                break
            if entry.value:
                found.append(entry.value)
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]
    return found
