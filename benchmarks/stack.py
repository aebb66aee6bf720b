"""The system under test: an embedded nats-server on a free port with a temporary store, and
every service running in this process (as `pathways up` runs them)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from nats.aio.client import Client

from benchmarks.common import ROSTER, say
from benchmarks.playbook import write_playbooks
from services.app import SERVICES, load_runtime, serve
from services.core.broker import connect
from services.core.embedded import EmbeddedNats, free_port
from services.core.logging import configure_logging
from services.core.migrate import migrate
from services.core.runtime import NotAttached, Runtime
from services.core.settings import LogFormat, Settings
from tests.support import signing

T = TypeVar("T")


def bench_settings(
    server: EmbeddedNats, port: int, workdir: Path, playbooks: Path, roster: Path = ROSTER
) -> Settings:
    return Settings(
        nats_url=server.url,
        data_dir=workdir / "nats",
        nats_port=port,
        playbooks_dir=playbooks,
        roster=roster,
        log_format=LogFormat.JSON,
        log_level="warning",
        port=0,  # the gateway: any free port, never this machine's 8080
    )


async def wait_attached(rt: Runtime, running: asyncio.Task[None]) -> None:
    deadline = time.perf_counter() + 30
    while True:
        if running.done():
            running.result()  # raises what stopped the services
            raise RuntimeError("services stopped during start-up")
        try:
            rt.store  # noqa: B018  (raises until serve() has attached the runtime)
            break
        except NotAttached:
            if time.perf_counter() > deadline:
                raise RuntimeError("services did not attach within 30s") from None
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # let the subscribers bind; the warm-up waits for the rest


async def guarded(running: asyncio.Task[None], work: Awaitable[T]) -> T:
    """Run `work`, failing fast if the services stop under it."""
    job = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({job, running}, return_when=asyncio.FIRST_COMPLETED)
    if job not in done:
        job.cancel()
        running.result()
        raise RuntimeError("services stopped during the benchmark")
    return job.result()


@dataclass(frozen=True)
class Stack:
    """The running services, a client connection to their server, and what the server said."""

    rt: Runtime
    nc: Client
    running: asyncio.Task[None]
    server_pid: int | None  # for CPU accounting only
    server_info: dict[str, Any]

    async def guarded(self, work: Awaitable[T]) -> T:
        return await guarded(self.running, work)


@contextlib.asynccontextmanager
async def running_stack(
    workdir: Path, playbooks: Callable[[Path], Path] = write_playbooks, roster: Path = ROSTER
) -> AsyncIterator[Stack]:
    """Start nats-server and the services, connect a client; stop them all on the way out.
    `playbooks` writes the run's playbooks under the work directory and returns where."""
    port = free_port()
    server = EmbeddedNats(workdir / "nats", port)
    settings = bench_settings(server, port, workdir, playbooks(workdir), roster)
    configure_logging(settings.log_format, settings.log_level)
    rt = load_runtime(settings)
    rt.verifier = signing()[0].verifier

    say(f"starting nats-server on {server.url} (store {workdir / 'nats'}, sync_interval: always)")
    await server.start()
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    nc: Client | None = None
    try:
        nc = await connect(server.url, name="pathways-bench")
        await migrate(nc.jetstream(), settings.stream_replicas)
        running = asyncio.create_task(serve(rt, list(SERVICES), stop))
        await wait_attached(rt, running)
        process = getattr(server, "_process", None)
        yield Stack(rt, nc, running, getattr(process, "pid", None), dict(nc._server_info))
    finally:
        stop.set()
        if running is not None:
            await asyncio.gather(running, return_exceptions=True)
        if nc is not None:
            await nc.close()
        await server.stop()
