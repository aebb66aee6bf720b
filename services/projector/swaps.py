"""Compare-and-swap writes to a projection bucket."""

from __future__ import annotations

from collections.abc import Callable

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

ATTEMPTS = 10


async def compare_and_swap(
    bucket: KeyValue, key: str, change: Callable[[bytes | None], bytes | None]
) -> int | None:
    """Apply `change` to the key's value (None when absent or deleted); returns the new
    revision, None if nothing changed. Writing what is already there is skipped, so replaying
    the stream over current projections writes nothing."""
    for _ in range(ATTEMPTS):
        try:
            entry = await bucket.get(key)
            current, revision = entry.value, entry.revision
        except KeyNotFoundError:
            current, revision = None, 0
        updated = change(current)
        if updated is None or updated == current:
            return None
        try:
            if revision:
                return await bucket.update(key, updated, last=revision)
            return await bucket.create(key, updated)
        except KeyWrongLastSequenceError:
            continue
    raise RuntimeError(f"projection of {key} kept conflicting")
