"""What the streams and buckets must be, and what a migration changes to get there (no I/O).

The rule: a migration only ever widens. Subjects are added, never removed (except a subject
another Pathways stream owns); limits, replicas and the dedup window only go up; a protection
(deny delete, deny purge, no rollup, discard new) once on is never turned off. The one change
the server cannot make — turning message schedules off on a stream created with them — is
refused with what to do, and nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from nats.js.api import DiscardPolicy, StorageType, StreamConfig

from schemas.subjects import AUDIT, DEAD_LETTERS, EVENTS, TIMERS, BucketSpec, StreamSpec

# Limits where 0 or a negative value (or none at all) means "no limit".
LIMITS = (
    "max_age",
    "max_msgs",
    "max_bytes",
    "max_msgs_per_subject",
    "max_msg_size",
    "max_consumers",
)
# Features a stream needs once on; turning them off would break a reader or a writer.
FEATURES = ("allow_direct", "allow_atomic", "allow_msg_schedules")
PROTECTIONS = ("deny_delete", "deny_purge")

SCHEDULES_STUCK = (
    "created with message schedules on, which nats-server cannot turn off (so it still "
    "accepts Nats-Rollup); move its events to a new data directory, see deploy/README.md "
    "'An event stream from before pathways migrate'"
)


class Action(StrEnum):
    CREATE = "created"
    UPGRADE = "upgraded"
    UNCHANGED = "unchanged"
    REFUSE = "refused"


@dataclass(frozen=True)
class Plan:
    kind: str  # "stream" or "bucket"
    name: str
    action: Action
    config: StreamConfig | None = None  # what to create or update to
    changes: tuple[str, ...] = field(default_factory=tuple)
    problem: str = ""

    def line(self) -> str:
        head = f"{self.kind} {self.name}: {self.action.value}"
        if self.action is Action.UPGRADE:
            return f"{head} ({', '.join(self.changes)})"
        if self.action is Action.REFUSE:
            return f"{head}: {self.problem}"
        return head


def _base(spec: StreamSpec, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=spec.duplicate_window.total_seconds(),
        max_age=spec.max_age.total_seconds() if spec.max_age else None,
        allow_direct=True,
    )


def wanted_streams(replicas: int) -> list[StreamConfig]:
    """The streams in the order they are migrated (events first: it may hand subjects on)."""
    events = replace(
        _base(EVENTS, replicas),
        allow_atomic=True,
        allow_msg_schedules=False,
        allow_rollup_hdrs=False,
        deny_delete=True,
        deny_purge=True,
        # If a limit is ever set, refuse new writes rather than drop old incidents.
        discard=DiscardPolicy.NEW,
    )
    # The server turns rollups on with schedules; saying so keeps the plan honest and stable.
    timers = replace(_base(TIMERS, replicas), allow_msg_schedules=True, allow_rollup_hdrs=True)
    dead_letters = _base(DEAD_LETTERS, replicas)
    # Sign-in records age out after their time, and nobody removes one sooner.
    audit = replace(_base(AUDIT, replicas), deny_delete=True, deny_purge=True)
    return [events, timers, dead_letters, audit]


def owners(streams: list[StreamConfig]) -> dict[str, str]:
    """Subject -> the Pathways stream that owns it."""
    return {s: c.name or "" for c in streams for s in c.subjects or ()}


def _unlimited(value: float | None) -> bool:
    return value is None or value <= 0


def _wider(current: float | None, wanted: float | None) -> float | None:
    """The wider of two limits; None stands for no limit."""
    if _unlimited(current) or _unlimited(wanted):
        return None
    assert current is not None and wanted is not None
    return max(current, wanted)


def _show(value: float | None) -> str:
    if _unlimited(value):
        return "unlimited"
    assert value is not None
    # Whole numbers in full: an age of 400 days reads 34560000, not 3.456e+07.
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def _subjects(current: StreamConfig, wanted: StreamConfig, owned: dict[str, str]) -> list[str]:
    keep = [s for s in current.subjects or () if owned.get(s, wanted.name) == wanted.name]
    return keep + [s for s in wanted.subjects or () if s not in keep]


def _limits(current: StreamConfig, wanted: StreamConfig) -> tuple[dict[str, Any], list[str]]:
    updates: dict[str, Any] = {}
    changes: list[str] = []
    for name in LIMITS:
        before, after = (
            getattr(current, name),
            _wider(getattr(current, name), getattr(wanted, name)),
        )
        if _unlimited(before) and after is None:
            continue
        if after is None:
            updates[name] = 0.0 if name == "max_age" else -1
        elif after == before:
            continue
        else:
            updates[name] = after
        changes.append(f"{name} {_show(before)}→{_show(after)}")
    return updates, changes


def _flags(current: StreamConfig, wanted: StreamConfig) -> tuple[dict[str, Any], list[str]]:
    updates: dict[str, Any] = {}
    changes: list[str] = []
    for name in (*FEATURES, *PROTECTIONS):
        if getattr(wanted, name) and not getattr(current, name):
            updates[name] = True
            changes.append(f"{name} on")
    if current.allow_rollup_hdrs and not wanted.allow_rollup_hdrs:
        updates["allow_rollup_hdrs"] = False
        changes.append("rollup off")
    if wanted.discard == DiscardPolicy.NEW and current.discard != DiscardPolicy.NEW:
        updates["discard"] = DiscardPolicy.NEW
        changes.append("discard new")
    return updates, changes


def plan_stream(current: StreamConfig | None, wanted: StreamConfig, owned: dict[str, str]) -> Plan:
    """What to do so that `current` offers at least everything `wanted` does."""
    name = wanted.name or ""
    if current is None:
        return Plan("stream", name, Action.CREATE, wanted)
    if current.allow_msg_schedules and not wanted.allow_msg_schedules:
        return Plan("stream", name, Action.REFUSE, problem=SCHEDULES_STUCK)
    updates: dict[str, Any] = {}
    changes: list[str] = []
    subjects = _subjects(current, wanted, owned)
    if subjects != list(current.subjects or ()):
        updates["subjects"] = subjects
        added = [s for s in subjects if s not in (current.subjects or ())]
        moved = [s for s in current.subjects or () if s not in subjects]
        changes += [f"subject +{s}" for s in added] + [f"subject {s} → {owned[s]}" for s in moved]
    if (current.num_replicas or 1) < (wanted.num_replicas or 1):
        updates["num_replicas"] = wanted.num_replicas
        changes.append(f"replicas {current.num_replicas or 1}→{wanted.num_replicas}")
    if current.duplicate_window < wanted.duplicate_window:
        updates["duplicate_window"] = wanted.duplicate_window
        changes.append(
            f"duplicate_window {current.duplicate_window:g}s→{wanted.duplicate_window:g}s"
        )
    for part in (_limits(current, wanted), _flags(current, wanted)):
        updates.update(part[0])
        changes += part[1]
    if not changes:
        return Plan("stream", name, Action.UNCHANGED)
    return Plan("stream", name, Action.UPGRADE, replace(current, **updates), tuple(changes))


def unprotected(current: StreamConfig, wanted: StreamConfig) -> list[str]:
    """The protections `wanted` has that `current` lacks (a service will not run without them)."""
    missing = [name for name in PROTECTIONS if getattr(wanted, name) and not getattr(current, name)]
    if current.allow_rollup_hdrs and not wanted.allow_rollup_hdrs:
        missing.append("rollup off")
    return missing


def bucket_stream(bucket: str) -> str:
    """A key-value bucket is a stream underneath, named KV_<bucket>."""
    return f"KV_{bucket}"


def plan_bucket(current: StreamConfig | None, spec: BucketSpec, replicas: int) -> Plan:
    """A missing bucket is created (the caller builds it); an existing one only widens."""
    if current is None:
        return Plan("bucket", spec.name, Action.CREATE)
    updates: dict[str, Any] = {}
    changes: list[str] = []
    if (current.num_replicas or 1) < replicas:
        updates["num_replicas"] = replicas
        changes.append(f"replicas {current.num_replicas or 1}→{replicas}")
    history = current.max_msgs_per_subject or 1
    if 0 < history < spec.history:
        updates["max_msgs_per_subject"] = spec.history
        changes.append(f"history {history}→{spec.history}")
    if spec.ttl is not None:
        # A value's time to live only grows: one an operator lengthened or lifted is kept.
        ttl = _wider(current.max_age, spec.ttl.total_seconds())
        if ttl is not None and ttl != current.max_age:
            updates["max_age"] = ttl
            changes.append(f"ttl {_show(current.max_age)}→{_show(ttl)}")
    if not current.allow_direct:
        updates["allow_direct"] = True
        changes.append("allow_direct on")
    if not changes:
        return Plan("bucket", spec.name, Action.UNCHANGED)
    return Plan("bucket", spec.name, Action.UPGRADE, replace(current, **updates), tuple(changes))
