"""Concurrent reads of the same thing share one request.

When a thousand deadlines of one incident fire together, each asks whether the incident is
closed and which playbook run is current. The answer to a read started a moment earlier is as
good as a fresh one for such checks (the state can change just after either), so the callers
wait on one request instead of queueing a thousand. Nothing is cached: once the request is
answered, the next caller asks again. (Caching libraries such as async-lru keep answers; this
must not, hence these few lines.)

Use it only for checks a slightly earlier read can answer — never to read back what the caller
itself has just written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flying: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, read: Callable[[], Awaitable[V]]) -> V:
        flying = self._flying.get(key)
        if flying is None:
            flying = asyncio.ensure_future(read())
            self._flying[key] = flying
            flying.add_done_callback(lambda done: self._landed(key, done))
        # One caller being cancelled must not cancel the read the others wait on.
        return await asyncio.shield(flying)

    def _landed(self, key: K, done: asyncio.Future[V]) -> None:
        if self._flying.get(key) is done:
            del self._flying[key]
        if not done.cancelled():
            done.exception()  # retrieved here too, in case every caller was cancelled
