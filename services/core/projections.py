"""Reading the key-value projections that back list queries."""

from __future__ import annotations

from nats.js import JetStreamContext

from services.core.readers import read_messages

# Deleted and purged keys leave an empty marker carrying this header.
_OPERATION = "KV-Operation"


async def values(js: JetStreamContext, bucket: str, key_filter: str = ">") -> list[bytes]:
    """The current value of every key matching the filter, in one pass over the bucket's stream
    (a key-value watcher would do the same, but leave its consumer behind on the server)."""
    messages = await read_messages(
        js, f"KV_{bucket}", f"$KV.{bucket}.{key_filter}", last_per_subject=True
    )
    return [m.data for m in messages if m.data and not (m.headers or {}).get(_OPERATION)]
