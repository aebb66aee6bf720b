"""Pathways on a three-node JetStream cluster survives the loss of the node that leads the event
stream: in the middle of a load of incidents and task commands that node is SIGKILLed; nothing
acknowledged is lost, nothing happens twice, the services serve again, and the node, restarted,
catches up. The recovery times are printed as one JSON line (`pytest -s`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ClusterInfo

from schemas import subjects
from services.core.broker import connect, quiet
from services.core.migrate import migrate
from tests.e2e.cluster_audit import audit, subject_counts
from tests.e2e.cluster_load import Driver, Ledger
from tests.e2e.harness import ROSTER, Cli, Service, log_incident, process_env
from tests.e2e.nats_cluster import NatsCluster, Node, three_nodes
from tests.support import ROOT

pytestmark = pytest.mark.e2e

REPLICAS = 3
SERVICES = ("intake", "intake", "engine", "engine", "projector")
WORKERS = 4
ROUNDS_BEFORE_KILL = 6  # incidents fully handled before the kill
ROUNDS_AFTER_KILL = 6  # ... and begun after it
ELECTION_TIMEOUT = 30.0
AUDIT_TIMEOUT = 30.0
CATCH_UP_TIMEOUT = 30.0
REPLICATED = (
    subjects.EVENTS_STREAM,
    subjects.TIMERS_STREAM,
    f"KV_{subjects.TASKS_BUCKET}",
    f"KV_{subjects.INCIDENTS_BUCKET}",
)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    nodes = three_nodes(tmp_path / "nats")
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
async def streams(cluster: NatsCluster) -> NatsCluster:
    """Streams and buckets set up R3 before any service starts, as `pathways migrate
    --replicas 3` does; the services only check that they are there."""
    nc = await connect(cluster.url, name="e2e-cluster-setup")
    try:
        await migrate(nc.jetstream(), REPLICAS)
    finally:
        await nc.close()
    return cluster


@pytest.fixture
async def services(streams: NatsCluster, tmp_path: Path) -> AsyncIterator[list[Service]]:
    """`pathways run` for each service, as separate processes, given every node's URL."""
    env = process_env(
        PATHWAYS_NATS_URL=streams.url,
        PATHWAYS_STREAM_REPLICAS=str(REPLICAS),
        PATHWAYS_PLAYBOOKS_DIR=str(ROOT / "playbooks"),
        PATHWAYS_ROSTER=str(ROSTER),
    )
    started: list[Service] = []
    try:
        # One at a time: two replicas starting together on a brand-new cluster can race for
        # the durable consumers (one creates it, the other's lookup times out while the new
        # consumer elects its leader, and that replica exits).
        for index, name in enumerate(SERVICES, 1):
            started.append(Service(f"{name}-{index}", ["run", name], env, tmp_path))
            await started[-1].started()
        yield started
    finally:
        for service in started:
            await asyncio.to_thread(service.stop)


@pytest.fixture
async def client(cluster: NatsCluster) -> AsyncIterator[Client]:
    """The test's own connection: every node, reconnecting at once when its node dies."""
    nc = await nats.connect(
        servers=cluster.url.split(","),
        name="e2e-cluster",
        connect_timeout=2,
        reconnect_time_wait=0.2,
        max_reconnect_attempts=-1,
        error_cb=quiet,
    )
    yield nc
    await nc.close()


async def leader_of(js: JetStreamContext, stream: str) -> ClusterInfo | None:
    try:
        info = await js.stream_info(stream)
    except nats.errors.Error:  # no leader to answer right now
        return None
    return info.cluster if info.cluster and info.cluster.leader else None


async def until(probe: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Poll `probe` every 50 ms; the loop time it first held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await probe():
            return loop.time()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:g}s")


async def holds(value: bool) -> bool:
    return value


@dataclass
class Failover:
    killed: str = ""
    killed_at: float = 0.0  # loop time
    election_s: float = 0.0  # from the kill to the new leader's `leader_since`
    new_leader: str = ""


async def kill_the_leader_mid_load(
    cluster: NatsCluster, js: JetStreamContext, ledger: Ledger, stop: asyncio.Event
) -> Failover:
    """Once some incidents are through, SIGKILL the events stream's leader as the next one is
    logged; wait for a new leader, and for more incidents begun after the kill to be through;
    then stop the load."""
    failover = Failover()
    try:
        await until(lambda: holds(len(ledger.rounds) >= ROUNDS_BEFORE_KILL), 60, "load")
        # Kill the moment an incident is logged, while the engine fans it out: the reactions
        # in flight must ride out the election rather than use up their deliveries.
        ledger.logged.clear()
        await asyncio.wait_for(ledger.logged.wait(), 30)
        before = await leader_of(js, subjects.EVENTS_STREAM)
        assert before is not None and before.leader is not None
        failover.killed = before.leader
        failover.killed_at, killed_wall = asyncio.get_running_loop().time(), datetime.now(UTC)
        cluster.node(before.leader).kill()
        after: list[ClusterInfo] = []

        async def elected() -> bool:
            found = await leader_of(js, subjects.EVENTS_STREAM)
            after[:] = [found] if found and found.leader != before.leader else []
            return bool(after)

        await until(elected, ELECTION_TIMEOUT, "a new leader")
        assert after[0].leader is not None and after[0].leader_since is not None
        failover.new_leader = after[0].leader
        failover.election_s = (after[0].leader_since - killed_wall).total_seconds()
        await until(
            lambda: holds(ledger.rounds_begun_after(failover.killed_at) >= ROUNDS_AFTER_KILL),
            90,
            "more load",
        )
    finally:
        stop.set()
    return failover


async def caught_up(js: JetStreamContext, node: Node) -> bool:
    """The node's own copy of every replicated stream matches the leader's."""
    try:
        local = await asyncio.to_thread(node.local_streams)
    except OSError:
        return False
    for stream in REPLICATED:
        try:
            state = (await js.stream_info(stream)).state
        except nats.errors.Error:
            return False
        mine = local.get(stream, {}).get("state", {})
        if (mine.get("last_seq"), mine.get("messages")) != (state.last_seq, state.messages):
            return False
    return True


async def assert_clean(js: JetStreamContext, ledger: Ledger, also_logged: set[str]) -> None:
    """The audit comes out clean once the reactions have caught up (bounded)."""
    problems: list[str] = []

    async def clean() -> bool:
        try:
            problems[:] = await audit(js, ledger, also_logged)
        except nats.errors.Error as exc:  # a slow answer on a loaded machine: ask again
            problems[:] = [f"audit failed: {exc!r}"]
        return not problems

    try:
        await until(clean, AUDIT_TIMEOUT, "a clean audit")
    except AssertionError:
        raise AssertionError("\n".join(problems[:40])) from None


async def figures(
    js: JetStreamContext,
    ledger: Ledger,
    failover: Failover,
    recovery: dict[str, float],
    replayed: int,
) -> dict[str, object]:
    """What the run measured and counted, for the JSON line."""
    events = await subject_counts(js, subjects.EVENTS_STREAM, subjects.EVENTS_ALL)
    task_events = [s for s in events if s.split(".")[3] == "task"]
    return {
        "killed": failover.killed,
        "new_leader": failover.new_leader,
        **recovery,
        "incidents": len(ledger.incidents) + 1,
        "tasks_created": sum(s.endswith(".created") for s in task_events),
        "task_events": len(task_events),
        "task_commands": len(ledger.actions),
        "commands_retried": ledger.retried,
        "retries_found_already_applied": ledger.retried_unchanged,
        "commands_replayed_unchanged": replayed,
    }


async def test_the_event_stream_leader_killed_mid_load_loses_and_repeats_nothing(
    cluster: NatsCluster, services: list[Service], client: Client
) -> None:
    js = client.jetstream(timeout=2.0)
    for stream in REPLICATED:
        assert (await js.stream_info(stream)).config.num_replicas == REPLICAS, stream
    loop = asyncio.get_running_loop()
    ledger = Ledger()
    driver = Driver(client, ledger)
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as load:
        for _ in range(WORKERS):
            load.create_task(driver.run(stop))
        failing_over = load.create_task(kill_the_leader_mid_load(cluster, js, ledger, stop))
    failover = failing_over.result()
    first_write = ledger.first_write_after(failover.killed_at)
    assert first_write is not None, "no command changed anything after the kill"

    # The CLI, given every node's URL, is served with one node still down.
    cli = Cli(cluster.url)
    by_cli = await asyncio.to_thread(log_incident, cli, "Logged through the CLI after failover")
    await assert_clean(js, ledger, {by_cli})

    # Every answered command once more, as a client that never got the answer: no change.
    stored = (await js.stream_info(subjects.EVENTS_STREAM)).state.messages
    replayed = len(ledger.answered)
    changed_twice = await driver.replay()
    assert not changed_twice, f"retried commands changed something twice: {changed_twice[:5]}"
    assert (await js.stream_info(subjects.EVENTS_STREAM)).state.messages == stored
    await assert_clean(js, ledger, {by_cli})

    victim = cluster.node(failover.killed)
    restarted_at = loop.time()
    cluster.restart(victim)
    caught_up_at = await until(
        lambda: caught_up(js, victim), CATCH_UP_TIMEOUT, f"{victim.name} catching up"
    )
    recovery = {
        "kill_to_new_leader_s": round(failover.election_s, 2),
        "kill_to_first_write_s": round(first_write - failover.killed_at, 2),
        "restart_to_caught_up_s": round(caught_up_at - restarted_at, 2),
    }
    report = await figures(js, ledger, failover, recovery, replayed)
    print(json.dumps({"cluster_failover": report}))
