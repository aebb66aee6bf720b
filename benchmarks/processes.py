"""The system under test as it is deployed: an embedded nats-server on a free port with a
temporary store, and each service in a process of its own (`pathways run SERVICE`), as the
Kubernetes manifests and docker-compose.yml run them. Their logs go to files in the work
directory; a service that exits fails the phase that is running."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from nats.aio.client import Client

from benchmarks.common import ROOT, say
from services.core.broker import connect
from services.core.embedded import EmbeddedNats, free_port
from services.core.migrate import migrate
from tests.support import signing

T = TypeVar("T")
START_TIMEOUT = 60.0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def started(self) -> bool:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}): {self.tail()}")
        return b'"services_started"' in self.log.read_bytes()

    def tail(self) -> str:
        return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])


@dataclass(frozen=True)
class ProcessStack:
    nc: Client
    processes: tuple[Process, ...]

    async def guarded(self, work: Awaitable[T]) -> T:
        """Run `work`, failing fast if a service process exits under it."""
        job = asyncio.ensure_future(work)
        while not job.done():
            for process in self.processes:
                if process.popen.poll() is not None:
                    job.cancel()
                    raise RuntimeError(f"{process.name} exited during the run: {process.tail()}")
            await asyncio.wait({job}, timeout=0.5)
        return job.result()


def _spawn(name: str, argv: Sequence[str], env: Mapping[str, str], workdir: Path) -> Process:
    log = workdir / f"{name}.log"
    out: IO[bytes] = log.open("wb")
    popen = subprocess.Popen(
        [str(Path(sys.executable).with_name("pathways")), *argv],
        cwd=ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()  # the child holds its own copy
    return Process(name, popen, log)


async def _all_started(processes: Sequence[Process]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not all(p.started() for p in processes):
        if time.monotonic() > deadline:
            late = [p.name for p in processes if not p.started()]
            raise RuntimeError(f"not started in {START_TIMEOUT:g}s: {', '.join(late)}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running_processes(
    workdir: Path, services: Sequence[str], settings: Mapping[str, str]
) -> AsyncIterator[ProcessStack]:
    """nats-server, then one `pathways run SERVICE` process per service with `settings` (the
    PATHWAYS_* variables) in its environment; all stopped on the way out."""
    port = free_port()
    server = EmbeddedNats(workdir / "nats", port)
    say(f"starting nats-server on {server.url} (store {workdir / 'nats'}, sync_interval: always)")
    await server.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATHWAYS_")}
    env.update(settings)
    env.update(signing()[1])
    # PATHWAYS_PORT: a gateway among them takes any free port, never this machine's 8080.
    env.update(PATHWAYS_NATS_URL=server.url, PATHWAYS_LOG_FORMAT="json", PATHWAYS_PORT="0")
    processes: list[Process] = []
    nc: Client | None = None
    try:
        nc = await connect(server.url, name="pathways-bench")
        await migrate(nc.jetstream())
        processes = [_spawn(s, ["run", s], env, workdir) for s in services]
        say(f"starting {', '.join(services)}, a process each")
        await _all_started(processes)
        yield ProcessStack(nc, tuple(processes))
    finally:
        for process in processes:
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in processes:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
        if nc is not None:
            await nc.close()
        await server.stop()
