"""`pathways migrate` on a fresh 3-node cluster: it waits out the meta leader election, raises
every stream and bucket to three replicas, and never lowers them again."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.subjects import BUCKETS, EVENTS_STREAM
from services.core.broker import NatsUnreachable, connect
from services.core.embedded import config_string, server_binary
from services.core.migrate import migrate
from services.core.streams import bucket_stream, wanted_streams
from tests.support import eventually, free_port

pytestmark = pytest.mark.integration

NODES = 3


def node_config(index: int, ports: list[int], routes: list[int], store: Path) -> str:
    peers = ", ".join(f"nats-route://127.0.0.1:{port}" for port in routes)
    return (
        f"server_name: n{index}\n"
        f"listen: 127.0.0.1:{ports[index]}\n"
        f"jetstream {{ store_dir: {config_string(str(store))} }}\n"
        f"cluster {{ name: pathways-test, listen: 127.0.0.1:{routes[index]}, routes: [{peers}] }}\n"
    )


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[str]:
    """Three fresh nats-servers in one cluster; yields the URL list, as soon as they listen."""
    ports = [free_port() for _ in range(NODES)]
    routes = [free_port() for _ in range(NODES)]
    processes: list[asyncio.subprocess.Process] = []
    try:
        for index in range(NODES):
            config = tmp_path / f"n{index}.conf"
            config.write_text(node_config(index, ports, routes, tmp_path / f"n{index}"))
            with (tmp_path / f"n{index}.log").open("wb") as log:
                processes.append(
                    await asyncio.create_subprocess_exec(
                        str(server_binary()), "-c", str(config),
                        stdout=log, stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
        url = ",".join(f"nats://127.0.0.1:{port}" for port in ports)

        async def listening() -> bool:
            with contextlib.suppress(NatsUnreachable):
                await (await connect(url, name="tests-cluster-probe")).close()
                return True
            return False

        await eventually(listening, timeout=15)
        yield url
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await process.wait()


async def replicas_of_everything(url: str) -> set[int]:
    nc = await connect(url, name="tests-cluster")
    try:
        js = nc.jetstream()
        names = [s.name or "" for s in wanted_streams(1)] + [bucket_stream(b.name) for b in BUCKETS]
        return {(await js.stream_info(name)).config.num_replicas or 1 for name in names}
    finally:
        await nc.close()


async def test_migrate_on_a_fresh_cluster_raises_to_three_and_never_lowers(cluster: str) -> None:
    nc = await connect(cluster, name="tests-cluster-migrate")
    try:
        js = nc.jetstream()
        first = await migrate(js, replicas=1)  # straight away: the election is still on
        assert all(line.endswith(": created") for line in first), first
        raised = await migrate(js, replicas=3)
        assert f"stream {EVENTS_STREAM}: upgraded (replicas 1→3)" in raised, raised
        assert all("replicas 1→3" in line for line in raised), raised
        assert await replicas_of_everything(cluster) == {3}
        again = await migrate(js, replicas=1)
        assert all(line.endswith(": unchanged") for line in again), again
        assert await replicas_of_everything(cluster) == {3}
    finally:
        await nc.close()
