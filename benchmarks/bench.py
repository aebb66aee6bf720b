"""What the measurement phases share: the services' runtime, a client connection, this run's id
and the incidents logged so far, plus reading stored timestamps and waiting for quiet."""

from __future__ import annotations

import asyncio
import time
import uuid

from nats.aio.client import Client
from nats.js import JetStreamContext

from benchmarks.common import QUIESCE_TIMEOUT
from benchmarks.stats import stored_at_ns
from schemas import subjects
from services.core.runtime import Runtime


class Bench:
    def __init__(self, rt: Runtime, nc: Client, *, server_pid: int | None = None) -> None:
        self.rt = rt
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.incidents: list[str] = []
        self.run_id = uuid.uuid4().hex[:8]
        self.server_pid = server_pid

    async def get(self, stream: str, *, subject: str | None = None, seq: int | None = None) -> int:
        msg = await self.js.get_msg(stream, seq=seq, subject=subject, direct=True)
        return stored_at_ns(msg)

    async def quiesce(self) -> float:
        """Wait until every durable consumer has delivered and had acknowledged everything;
        returns how long that took, in ms."""
        started = time.perf_counter()
        while True:
            infos = await self.js.consumers_info(subjects.EVENTS_STREAM)
            busy = sum((i.num_pending or 0) + (i.num_ack_pending or 0) for i in infos)
            if busy == 0:
                return (time.perf_counter() - started) * 1000
            if time.perf_counter() - started > QUIESCE_TIMEOUT:
                raise RuntimeError(f"consumers still busy after {QUIESCE_TIMEOUT:g}s: {busy}")
            await asyncio.sleep(0.02)
