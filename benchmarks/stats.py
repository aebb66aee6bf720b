"""Summaries of millisecond samples, and reading the server's clock off stored messages."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nats.js.api import RawStreamMsg


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(value: float) -> float:
    return round(value, 3)


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """p50/p99 and friends of millisecond samples, rounded to microseconds."""
    return {
        "samples": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p90_ms": ms(percentile(values, 90)),
        "p99_ms": ms(percentile(values, 99)),
        "mean_ms": ms(sum(values) / len(values)) if values else math.nan,
        "min_ms": ms(min(values)) if values else math.nan,
        "max_ms": ms(max(values)) if values else math.nan,
    }


# ----------------------------------------------------------------------------- server clock


def nats_time_ns(stamp: str) -> int:
    """The server's RFC 3339 timestamp (nanoseconds, UTC) as integer nanoseconds since the epoch."""
    stamp = stamp.strip().removesuffix("Z")
    whole, _, fraction = stamp.partition(".")
    seconds = int(datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))


def stored_at_ns(msg: RawStreamMsg) -> int:
    """When the server stored a message: the Nats-Time-Stamp of a direct get."""
    headers = msg.headers or {}
    stamp = headers.get("Nats-Time-Stamp")
    if not isinstance(stamp, str):
        raise RuntimeError(f"direct get of {msg.subject} carried no Nats-Time-Stamp")
    return nats_time_ns(stamp)
