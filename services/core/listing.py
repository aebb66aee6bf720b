"""Reading a bucket for a list without reading the whole bucket: the keys under a filter (one
stream-info request, which names the subjects that hold a message), then only the values a page
needs (JetStream's batched direct get, `multi_last`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass

from nats.aio.client import Client

from services.core import indexes

_API = "$JS.API"
_OPERATION = "KV-Operation"  # deleted and purged keys leave an empty marker with this header
_SUBJECTS_PER_GET = 256
_TIMEOUT = 5.0


def _prefix(bucket: str) -> str:
    return f"$KV.{bucket}."


async def keys(nc: Client, bucket: str, key_filter: str) -> list[str]:
    """The keys under a filter that hold a value or a marker, in key order. Index keys are
    purged when they stop applying, so a purged key is not listed."""
    prefix = _prefix(bucket)
    found: list[str] = []
    while True:
        request = {"subjects_filter": prefix + key_filter, "offset": len(found)}
        reply = await nc.request(
            f"{_API}.STREAM.INFO.KV_{bucket}", json.dumps(request).encode(), timeout=_TIMEOUT
        )
        info = json.loads(reply.data)
        if "error" in info:
            raise RuntimeError(f"listing {bucket} failed: {info['error'].get('description')}")
        subjects = info.get("state", {}).get("subjects") or {}
        found.extend(s[len(prefix) :] for s in subjects)
        # The server sends at most `limit` subjects a reply; `total` says how many there are.
        if not subjects or len(found) >= info.get("total", 0):
            break
    found.sort()
    return found


async def values(nc: Client, bucket: str, key_filters: Sequence[str]) -> dict[str, bytes]:
    """The current value of each key matching the filters (exact keys or wildcards), skipping
    deleted ones: one batched direct get per few hundred filters."""
    found: dict[str, bytes] = {}
    prefix = _prefix(bucket)
    for start in range(0, len(key_filters), _SUBJECTS_PER_GET):
        chunk = [prefix + k for k in key_filters[start : start + _SUBJECTS_PER_GET]]
        for subject, data in await _multi_last(nc, f"KV_{bucket}", chunk):
            found[subject[len(prefix) :]] = data
    return found


async def _multi_last(nc: Client, stream: str, subjects: list[str]) -> list[tuple[str, bytes]]:
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    found: list[tuple[str, bytes]] = []
    try:
        await nc.publish(
            f"{_API}.DIRECT.GET.{stream}", json.dumps({"multi_last": subjects}).encode(), inbox
        )
        while True:
            msg = await sub.next_msg(timeout=_TIMEOUT)
            headers = msg.headers or {}
            status = headers.get("Status")
            if status == "404":  # nothing matched
                return found
            if status is not None:
                if status != "204":  # 204: end of the batch
                    raise RuntimeError(f"batched get from {stream} failed: {status}")
                return found
            if msg.data and not headers.get(_OPERATION):
                found.append((headers["Nats-Subject"], msg.data))
    finally:
        await sub.unsubscribe()


async def count(nc: Client, bucket: str) -> int:
    """How many keys the bucket holds (deleted ones included)."""
    reply = await nc.request(f"{_API}.STREAM.INFO.KV_{bucket}", b"", timeout=_TIMEOUT)
    return int(json.loads(reply.data).get("state", {}).get("num_subjects", 0))


@dataclass(frozen=True)
class KeyRun:
    """Keys of an index family from a start position on, in order (without the family
    prefix), and how many keys the partitions not listed hold."""

    positions: list[str]
    unlisted: int


def after_group(group: str) -> str:
    """A start position just past every key of `group` ('/' sorts after '.')."""
    return group + "/"


async def partition_counts(nc: Client, bucket: str, prefix: str) -> list[tuple[str, int]]:
    """(partition, keys it holds) of an index family, newest first: one batched get."""
    found = await values(nc, bucket, [indexes.counters(prefix)])
    counted = sorted((key.rsplit(".", 1)[1], int(value)) for key, value in found.items())
    return [(part, count) for part, count in counted if count > 0]


async def keys_from(nc: Client, bucket: str, prefix: str, start: str, want: int) -> KeyRun:
    """At least `want` keys at or after `start` (when there are), listing only the partitions
    that hold them; the listings run concurrently."""
    first = indexes.part_of(start) if start else ""
    parts = [(part, count) for part, count in await partition_counts(nc, bucket, prefix)]
    parts = [(part, count) for part, count in parts if part >= first]
    chosen: list[str] = []
    counted = 0
    for part, count in parts:
        chosen.append(part)
        # How much of the start's own partition lies after the start is not known.
        counted += count if part != first else 0
        if counted >= want:
            break
    listed = await asyncio.gather(*(keys(nc, bucket, f"{prefix}{part}.>") for part in chosen))
    positions = [key[len(prefix) :] for run in listed for key in run]
    return KeyRun(
        positions=[p for p in positions if p >= start],
        unlisted=sum(count for _, count in parts[len(chosen) :]),
    )
