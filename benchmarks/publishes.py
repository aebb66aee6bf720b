"""Phase (e), the throughput floor: raw acknowledged JetStream publishes per second on the same
server, with as many in flight as the throughput run has commands, to a scratch stream
configured like the events stream. Transitions/s is reported as a ratio to it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from nats.js.api import StorageType, StreamConfig

from benchmarks.bench import Bench
from schemas import subjects

PUBLISH_STREAM = "BENCH_PUBLISHES"
PUBLISH_SUBJECT = "bench.publishes"


@dataclass(frozen=True)
class PublishRun:
    publishes: int
    concurrency: int
    payload_bytes: int
    elapsed_s: float

    @property
    def per_second(self) -> float:
        return self.publishes / self.elapsed_s


async def publish_floor(
    bench: Bench, payload: bytes, count: int, concurrency: int, *, warmup: int
) -> PublishRun:
    """`count` js.publish calls, each awaiting its acknowledgement, `concurrency` at a time,
    after `warmup` untimed ones; every message has its own subject and message id, as a task
    creation has. The scratch stream is deleted afterwards."""
    js = bench.js
    await js.add_stream(
        StreamConfig(
            name=PUBLISH_STREAM,
            description="Benchmark floor: raw acknowledged publishes",
            subjects=[f"{PUBLISH_SUBJECT}.>"],
            storage=StorageType.FILE,
            num_replicas=bench.rt.settings.stream_replicas,
            duplicate_window=subjects.EVENTS.duplicate_window.total_seconds(),
            allow_direct=True,
        )
    )
    try:
        await publish_all(bench, payload, warmup, concurrency, label="warm-up")
        started = time.perf_counter()
        await publish_all(bench, payload, count, concurrency, label="measured")
        elapsed = time.perf_counter() - started
    finally:
        await js.delete_stream(PUBLISH_STREAM)
    return PublishRun(count, concurrency, len(payload), elapsed)


async def publish_all(
    bench: Bench, payload: bytes, count: int, concurrency: int, *, label: str
) -> None:
    numbers = iter(range(count))

    async def worker() -> None:
        for n in numbers:  # the workers share one iterator: each publish is made once
            await bench.js.publish(
                f"{PUBLISH_SUBJECT}.{label}.{n}",
                payload,
                stream=PUBLISH_STREAM,
                headers={"Nats-Msg-Id": f"publish-{bench.run_id}-{label}-{n}"},
            )

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
