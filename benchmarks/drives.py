"""Runs (c) and (d): task commands driven at the services by a client in this process (sharing
the services' event loop) or in its own process (benchmarks.loadgen), with the CPU they cost."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.bench import Bench
from benchmarks.common import ROOT
from benchmarks.load import DriveResult, TaskRef, drive
from benchmarks.probes import CpuMeter
from schemas.commands import TaskVerb
from tests.support import signing

ACK_VERBS = (TaskVerb.ACKNOWLEDGE,)
LIFECYCLE_VERBS = (TaskVerb.ACKNOWLEDGE, TaskVerb.START, TaskVerb.COMPLETE)


@dataclass(frozen=True)
class Measured:
    result: DriveResult
    cpu: dict[str, float | None]

    def cpu_report(self) -> dict[str, Any]:
        """CPU seconds while the commands ran, and as cores busy (CPU s / elapsed s)."""
        wall = self.result.elapsed_s or 1.0
        report: dict[str, Any] = {"note": "cores busy = CPU seconds / elapsed seconds"}
        for name in ("services_process_s", "nats_server_s"):
            value = self.cpu[name]
            report[name] = None if value is None else round(value, 3)
            report[name.removesuffix("_s") + "_cores"] = (
                None if value is None else round(value / wall, 2)
            )
        client = self.cpu["client_process_s"]
        if client is not None:
            report["client_process_s"] = round(client, 3)
            report["client_process_cores"] = round(client / wall, 2)
        return report


async def in_process(
    bench: Bench, tasks: Sequence[TaskRef], verbs: Sequence[TaskVerb], count: int, concurrency: int
) -> Measured:
    cpu = CpuMeter(bench.server_pid)
    result = await drive(bench.nc, tasks, verbs, count, concurrency)
    return Measured(result, cpu.read(client=None))


async def separate_process(
    bench: Bench, tasks: Sequence[TaskRef], verbs: Sequence[TaskVerb], count: int, concurrency: int
) -> Measured:
    job = {
        "url": bench.rt.settings.nats_url,
        "tasks": [[t.task_id, t.assignee] for t in tasks],
        "verbs": [str(v) for v in verbs],
        "transitions": count,
        "concurrency": concurrency,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.loadgen",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=str(ROOT),
        env={**os.environ, **signing()[1]},  # it signs with the key the services check
    )
    cpu = CpuMeter(bench.server_pid)
    out, _ = await process.communicate(json.dumps(job).encode())
    if process.returncode != 0:
        raise RuntimeError(f"load generator exited with {process.returncode}")
    data: dict[str, Any] = json.loads(out)
    result = DriveResult.from_json(data)
    # The client process starts up (imports) before it drives, while the services idle.
    return Measured(result, cpu.read(client=result.cpu_s))
