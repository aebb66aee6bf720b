"""Phase (b), the JetStream floor: 30 pipelined publishes of real task.created bodies to a
stream configured like the events stream, timed on the server clock (first to last stored)."""

from __future__ import annotations

import asyncio
import time

from nats.js.api import StorageType, StreamConfig

from benchmarks.bench import Bench
from benchmarks.common import FLOOR_STREAM, FLOOR_SUBJECT, TASKS_PER_PLAYBOOK
from schemas import subjects


class FloorPhase:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.payloads: list[bytes] = []

    async def prepare(self) -> None:
        """A stream configured like the events stream, and real TaskCreated bodies to publish
        (call after at least one incident has fanned out)."""
        js = self.bench.js
        await js.add_stream(
            StreamConfig(
                name=FLOOR_STREAM,
                description="Benchmark floor: plain pipelined publishes",
                subjects=[f"{FLOOR_SUBJECT}.>"],
                storage=StorageType.FILE,
                num_replicas=self.bench.rt.settings.stream_replicas,
                duplicate_window=subjects.EVENTS.duplicate_window.total_seconds(),
                allow_direct=True,
            )
        )
        # The bodies of the first incident's real task.created events, as stored.
        incident_id = self.bench.incidents[0]
        for i in range(TASKS_PER_PLAYBOOK):
            subject = subjects.task_event(incident_id, f"task-{i + 1:02d}", "created")
            msg = await js.get_msg(subjects.EVENTS_STREAM, subject=subject, direct=True)
            assert msg.data is not None
            self.payloads.append(msg.data)

    def payload_bytes(self) -> int:
        """The mean size of the published bodies."""
        return round(sum(map(len, self.payloads)) / len(self.payloads))

    def headers(self, prefix: str, round_no: int, index: int, expect: bool) -> dict[str, str]:
        headers = {"Nats-Msg-Id": f"floor-{self.bench.run_id}-{prefix}-{round_no}-{index}"}
        if expect:
            # What the engine sends with each task creation: "this task has no events yet".
            headers["Nats-Expected-Last-Subject-Sequence"] = "0"
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = (
                f"{FLOOR_SUBJECT}.{prefix}{round_no}.task-{index + 1:02d}.>"
            )
        return headers

    async def once(self, round_no: int, expect: bool) -> tuple[float, float]:
        """30 pipelined publishes with message ids; (server first->last stored, client wall) ms.
        With `expect`, each also carries the engine's expected-last-subject-sequence check."""
        prefix = "x" if expect else "r"
        started = time.perf_counter()
        acks = await asyncio.gather(
            *(
                self.bench.js.publish(
                    f"{FLOOR_SUBJECT}.{prefix}{round_no}.task-{i + 1:02d}.created",
                    payload,
                    stream=FLOOR_STREAM,
                    headers=self.headers(prefix, round_no, i, expect),
                )
                for i, payload in enumerate(self.payloads)
            )
        )
        wall_ms = (time.perf_counter() - started) * 1000
        seqs = [ack.seq for ack in acks]
        first, last = await asyncio.gather(
            self.bench.get(FLOOR_STREAM, seq=min(seqs)),
            self.bench.get(FLOOR_STREAM, seq=max(seqs)),
        )
        return (last - first) / 1e6, wall_ms

    async def run(
        self, rounds: int, first_round: int, expect: bool = False
    ) -> tuple[list[float], list[float]]:
        """(server ms, client wall ms) of each round."""
        server: list[float] = []
        client: list[float] = []
        for index in range(rounds):
            server_ms, wall_ms = await self.once(first_round + index, expect)
            server.append(server_ms)
            client.append(wall_ms)
        return server, client
