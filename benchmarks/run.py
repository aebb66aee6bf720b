"""Pathways benchmark: fan-out latency against the JetStream floor, command round trip, throughput
against raw acknowledged publishes.

Run from the repository root: `python -m benchmarks.run` (`make bench`). Starts its own embedded
nats-server (the `pathways up` configuration, `sync_interval: always`) on a free port with a
temporary store, runs every service in this process as `pathways up` does, and prints one JSON
object with the figures to stdout. Progress goes to stderr. See docs/benchmarks.md.
"""

# The module docstring above is also the --help text. This module only puts the phases in
# order: options.py (command line), stack.py (server and services), fanout.py, floor.py,
# taskpool.py, drives.py and publishes.py (the phases), probes.py and stats.py (measuring),
# report.py and targets.py (the printed JSON).

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import deadlines, lists
from benchmarks.bench import Bench
from benchmarks.common import TASKS_PER_PLAYBOOK, say
from benchmarks.drives import ACK_VERBS, LIFECYCLE_VERBS, Measured, in_process, separate_process
from benchmarks.fanout import FanOut, FanOutPhase
from benchmarks.floor import FloorPhase
from benchmarks.options import Options, parse_options
from benchmarks.probes import GcWatch, load_average, profiled
from benchmarks.publishes import PublishRun, publish_floor
from benchmarks.report import Figures, FloorFigures, LoadRun, build_report
from benchmarks.stack import Stack, running_stack
from benchmarks.taskpool import Pools, split_pool, task_pool, tasks_needed
from services.core import loop


@dataclass(frozen=True)
class Session:
    """One benchmark run: its options, the running services and the phases' shared state."""

    options: Options
    stack: Stack
    bench: Bench
    fanout: FanOutPhase
    floor: FloorPhase


async def warm_up(s: Session) -> None:
    warmup = s.options.warmup
    say(f"warm-up: {warmup} incidents and {warmup} floor rounds")
    await s.stack.guarded(s.fanout.run(warmup, "warm-up"))
    await s.floor.prepare()
    await s.stack.guarded(s.floor.run(warmup, first_round=0))
    await s.stack.guarded(s.floor.run(warmup, first_round=0, expect=True))
    await s.bench.quiesce()


async def measure_floor(s: Session) -> FloorFigures:
    rounds, first = s.options.floor_rounds, s.options.warmup
    say(f"(b) floor: {rounds} rounds of {TASKS_PER_PLAYBOOK} publishes")
    server, client = await s.stack.guarded(s.floor.run(rounds, first_round=first))
    say("(b) the same with the engine's expected-sequence headers (for reference)")
    expect_server, expect_client = await s.stack.guarded(
        s.floor.run(rounds, first_round=first, expect=True)
    )
    await s.bench.quiesce()
    return FloorFigures(server, client, expect_server, expect_client)


async def measure_fan_out(s: Session) -> tuple[list[FanOut], dict[str, Any]]:
    """The fanned-out incidents, and the garbage collector's report while they ran."""
    options = s.options
    say(f"(a) fan-out: {options.incidents} incidents, one at a time")
    with profiled(options.profile_dir, "fanout"), GcWatch() as gc_fanout:
        fanouts = await s.stack.guarded(s.fanout.run(options.incidents, "fan-out"))
    await s.bench.quiesce()
    await s.fanout.unsubscribe()
    return fanouts, gc_fanout.report()


async def share_out_tasks(s: Session) -> Pools:
    options = s.options
    needed = tasks_needed(options.acks, options.transitions, options.separate_process)
    pool = await s.stack.guarded(task_pool(s.fanout, needed, warmup=options.warmup))
    return split_pool(
        pool,
        acks=options.acks,
        transitions=options.transitions,
        separate_process=options.separate_process,
    )


async def measure_acks(s: Session, pools: Pools) -> tuple[Measured, Measured | None]:
    """(c) sequential acknowledges, client in this process then (optionally) in its own."""
    acks = s.options.acks
    say(f"(c) acknowledge round trip: {len(pools.ack_in)} sequential commands (client in-process)")
    acks_in = await s.stack.guarded(in_process(s.bench, pools.ack_in, ACK_VERBS, acks, 1))
    await s.bench.quiesce()
    if not s.options.separate_process:
        return acks_in, None
    say(f"(c) acknowledge round trip: {len(pools.ack_out)} sequential (client process)")
    acks_out = await s.stack.guarded(separate_process(s.bench, pools.ack_out, ACK_VERBS, acks, 1))
    await s.bench.quiesce()
    return acks_in, acks_out


async def measure_throughput(s: Session, pools: Pools) -> tuple[LoadRun, LoadRun | None]:
    """(d) task lifecycles with many commands in flight, in this process then in its own."""
    options = s.options
    count, concurrency = options.transitions, options.concurrency
    say(f"(d) throughput: {count} transitions, {concurrency} in flight (client in-process)")
    with profiled(options.profile_dir, "throughput"):
        measured = await s.stack.guarded(
            in_process(s.bench, pools.load_in, LIFECYCLE_VERBS, count, concurrency)
        )
    load_in = LoadRun(measured, await s.bench.quiesce())
    if not options.separate_process:
        return load_in, None
    say(f"(d) throughput: {count} transitions, {concurrency} in flight (client process)")
    measured = await s.stack.guarded(
        separate_process(s.bench, pools.load_out, LIFECYCLE_VERBS, count, concurrency)
    )
    return load_in, LoadRun(measured, await s.bench.quiesce())


async def measure_publish_floor(s: Session) -> PublishRun:
    """(e) raw acknowledged publishes per second on the same server: what (d) is a ratio of."""
    count, concurrency = s.options.publishes, s.options.concurrency
    say(f"(e) publish floor: {count} acknowledged publishes, {concurrency} in flight")
    payload = s.floor.payloads[0]  # a real task.created body
    run = await s.stack.guarded(
        publish_floor(s.bench, payload, count, concurrency, warmup=s.options.warmup * 100)
    )
    await s.bench.quiesce()
    return run


async def measure(options: Options, stack: Stack, load_before: float | None) -> Figures:
    """Every phase, in order, against the running services."""
    bench = Bench(stack.rt, stack.nc, server_pid=stack.server_pid)
    s = Session(options, stack, bench, FanOutPhase(bench), FloorPhase(bench))
    await s.fanout.subscribe()
    await warm_up(s)
    floor = await measure_floor(s)
    fanouts, gc_fanout = await measure_fan_out(s)
    pools = await share_out_tasks(s)
    acks_in, acks_out = await measure_acks(s, pools)
    load_in, load_out = await measure_throughput(s, pools)
    publishes = await measure_publish_floor(s)
    return Figures(
        server_info=stack.server_info,
        floor_payload_bytes=s.floor.payload_bytes(),
        load_average_before=load_before,
        fanouts=fanouts,
        gc_fanout=gc_fanout,
        floor=floor,
        acks_in=acks_in,
        acks_out=acks_out,
        load_in=load_in,
        load_out=load_out,
        publishes=publishes,
    )


async def benchmark(options: Options, workdir: Path) -> dict[str, Any]:
    began = time.perf_counter()
    load_before = load_average()
    async with running_stack(workdir) as stack:
        figures = await measure(options, stack, load_before)
    return build_report(options, figures, began=began)


def main(argv: Sequence[str] | None = None) -> None:
    given = sys.argv[1:] if argv is None else argv
    if "--lists" in given:
        # List queries at scale: a run of its own (benchmarks/lists.py).
        return lists.main(argv)
    if "--deadlines" in given:
        # 1,000 deadlines at one instant: a run of its own (benchmarks/deadlines.py).
        return deadlines.main(argv)
    options = parse_options(argv, description=__doc__)
    os.environ["PATHWAYS_LOG_FORMAT"] = "json"
    os.environ["PATHWAYS_LOG_LEVEL"] = "warning"
    with tempfile.TemporaryDirectory(prefix="pathways-bench-") as tmp:
        report = loop.run(benchmark(options, Path(tmp)))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
