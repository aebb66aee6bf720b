"""Live updates for the console: what changed, by id only, pushed to every page that shows it.

One gateway process follows the two projection buckets (incident summaries, task snapshots)
with one ordered, ephemeral, headers-only consumer each (a KV bucket is a stream of its own, so
one consumer cannot span both): it learns which key changed, never what it holds. Because
these are the projections, a page that refetches on hearing of a change reads the new state.

Each change goes to a `Broadcaster`, which hands it to every connected client that wants it,
through a bounded queue per client. A client too slow to keep up loses its oldest changes, not
the newest: every change only says "refetch", so the last one is all it needs. Text never
travels this way; the pages fetch it through the usual access checks (services.gateway.
live_streams)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from schemas.base import INCIDENT_ID_PATTERN, TASK_ID_PATTERN
from schemas.subjects import INCIDENTS_BUCKET, TASKS_BUCKET
from services.core.logging import get_logger

log = get_logger(__name__)

# Changes a client may have waiting before the oldest is dropped.
CLIENT_QUEUE = 32
FOLLOWED = (
    (INCIDENTS_BUCKET, f"$KV.{INCIDENTS_BUCKET}.>"),
    (TASKS_BUCKET, f"$KV.{TASKS_BUCKET}.>"),
)
_INCIDENT = re.compile(INCIDENT_ID_PATTERN)
_TASK = re.compile(TASK_ID_PATTERN)


@dataclass(frozen=True)
class Change:
    """An incident's summary changed (`task_id` None), or one of its tasks did."""

    incident_id: str
    task_id: str | None = None


def change_of(subject: str) -> Change | None:
    """The change a projection's subject names; None for a key that is no incident or task."""
    for bucket, _ in FOLLOWED:
        prefix = f"$KV.{bucket}."
        if not subject.startswith(prefix):
            continue
        key = subject.removeprefix(prefix)
        if bucket == INCIDENTS_BUCKET and _INCIDENT.match(key):
            return Change(incident_id=key)
        if bucket == TASKS_BUCKET and _TASK.match(key):
            return Change(incident_id=key.partition(".")[0], task_id=key)
    return None


@dataclass(eq=False)
class Listener:
    """One connected client: the changes it wants, waiting to be sent; None ends it."""

    wants: Callable[[Change], bool]
    queue: asyncio.Queue[Change | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=CLIENT_QUEUE)
    )
    dropped: int = 0

    def offer(self, change: Change | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(change)


class Broadcaster:
    def __init__(self) -> None:
        self._listeners: set[Listener] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._listeners)

    def listen(self, wants: Callable[[Change], bool]) -> Listener:
        listener = Listener(wants)
        if self._closed:
            listener.offer(None)
        else:
            self._listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def publish(self, change: Change) -> None:
        for listener in list(self._listeners):
            if listener.wants(change):
                listener.offer(change)

    def close(self) -> None:
        """End every stream (the gateway is stopping), and any opened from now on."""
        self._closed = True
        for listener in list(self._listeners):
            listener.offer(None)
        self._listeners.clear()


class LiveFeed:
    """The consumers of one gateway process, feeding its broadcaster."""

    def __init__(self, broadcaster: Broadcaster) -> None:
        self.broadcaster = broadcaster
        self._subscriptions: list[JetStreamContext.PushSubscription] = []

    async def start(self, js: JetStreamContext) -> None:
        for bucket, subject in FOLLOWED:
            subscription = await js.subscribe(
                subject,
                stream=f"KV_{bucket}",
                cb=self._heard,
                ordered_consumer=True,
                headers_only=True,
                deliver_policy=DeliverPolicy.NEW,
            )
            self._subscriptions.append(subscription)
        log.info("live_updates_started", buckets=len(self._subscriptions))

    async def _heard(self, msg: Msg) -> None:
        change = change_of(msg.subject)
        if change is not None:
            self.broadcaster.publish(change)

    async def stop(self) -> None:
        """End every stream, then the consumers (the server removes ephemeral ones)."""
        self.broadcaster.close()
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):  # NATS may be gone already: nothing to undo
                await subscription.unsubscribe()
        self._subscriptions.clear()


async def start_live(js: JetStreamContext) -> LiveFeed:
    """Live updates for this process; without them (NATS refused the consumers) pages still
    work, and refresh only when reloaded."""
    feed = LiveFeed(Broadcaster())
    try:
        await feed.start(js)
    except Exception as exc:
        log.warning("live_updates_unavailable", error=type(exc).__name__)
    return feed
