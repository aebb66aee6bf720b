"""Pathways benchmark: fan-out latency against the JetStream floor, command round trip, throughput.

Run from the repository root: `python -m benchmarks.run` (`make bench`). Starts its own embedded
nats-server (the `pathways up` configuration, `sync_interval: always`) on a free port with a
temporary store, runs every service in this process as `pathways up` does, and prints one JSON
object with the figures to stdout. Progress goes to stderr. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import math
import os
import platform
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from benchmarks.load import DriveResult, TaskRef, drive
from schemas import subjects
from schemas.commands import ListTasks, LogIncident, TaskVerb
from services.app import SERVICES, load_runtime, serve
from services.core import loop
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.logging import configure_logging
from services.core.rpc import call
from services.core.runtime import NotAttached, Runtime
from services.core.settings import LogFormat, Settings

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "rosters" / "example.yaml"

PLAYBOOK_ID = "bench-fanout"
INCIDENT_TYPE = "bench-fanout"
TASKS_PER_PLAYBOOK = 30
ROLES = ("community_liaison", "victim_advocate", "peer_support")

FLOOR_STREAM = "BENCH_FLOOR"
FLOOR_SUBJECT = "bench.floor"

TARGET_FANOUT_P50_X_FLOOR = 2.0
TARGET_FANOUT_P99_X_FLOOR = 3.0
TARGET_ACK_P50_MS = 3.0
TARGET_TRANSITIONS_PER_S = 1500.0

ACTOR = "dispatch.bench"
REQUEST_TIMEOUT = 10.0
FANOUT_TIMEOUT = 30.0
QUIESCE_TIMEOUT = 180.0

T = TypeVar("T")


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class Options:
    incidents: int
    floor_rounds: int
    warmup: int
    acks: int
    transitions: int
    concurrency: int
    separate_process: bool
    quick: bool
    profile_dir: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--incidents", type=int, default=None, help="measured incidents (200)")
    parser.add_argument(
        "--transitions", type=int, default=None, help="task transitions for throughput (3000)"
    )
    parser.add_argument("--acks", type=int, default=None, help="timed acknowledges (500)")
    parser.add_argument("--concurrency", type=int, default=64, help="commands in flight (64)")
    parser.add_argument(
        "--no-separate-process",
        action="store_true",
        help="skip the runs whose client is a separate process",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        default=None,
        help="write cProfile stats of the fan-out and in-process load phases to DIR",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 30 incidents, 150 acks, 600 transitions"
    )
    args = parser.parse_args(argv)
    quick: bool = args.quick
    incidents: int = args.incidents if args.incidents is not None else (30 if quick else 200)
    transitions = args.transitions if args.transitions is not None else (600 if quick else 3000)
    acks = args.acks if args.acks is not None else (150 if quick else 500)
    if incidents < 1 or transitions < 1 or acks < 1 or args.concurrency < 1:
        parser.error("counts must be positive")
    return Options(
        incidents=incidents,
        floor_rounds=incidents,
        warmup=3 if quick else 10,
        acks=acks,
        transitions=transitions,
        concurrency=args.concurrency,
        separate_process=not args.no_separate_process,
        quick=quick,
        profile_dir=args.profile,
    )


# --------------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(value: float) -> float:
    return round(value, 3)


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """p50/p99 and friends of millisecond samples, rounded to microseconds."""
    return {
        "samples": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p90_ms": ms(percentile(values, 90)),
        "p99_ms": ms(percentile(values, 99)),
        "mean_ms": ms(sum(values) / len(values)) if values else math.nan,
        "min_ms": ms(min(values)) if values else math.nan,
        "max_ms": ms(max(values)) if values else math.nan,
    }


# ----------------------------------------------------------------------------- server clock


def nats_time_ns(stamp: str) -> int:
    """The server's RFC 3339 timestamp (nanoseconds, UTC) as integer nanoseconds since the epoch."""
    stamp = stamp.strip().removesuffix("Z")
    whole, _, fraction = stamp.partition(".")
    seconds = int(datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))


def stored_at_ns(msg: RawStreamMsg) -> int:
    """When the server stored a message: the Nats-Time-Stamp of a direct get."""
    headers = msg.headers or {}
    stamp = headers.get("Nats-Time-Stamp")
    if not isinstance(stamp, str):
        raise RuntimeError(f"direct get of {msg.subject} carried no Nats-Time-Stamp")
    return nats_time_ns(stamp)


# ------------------------------------------------------------------------------- environment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


INSTRUCTIONS = (
    "- Contact the people this task concerns in the way they prefer; keep it short and factual.\n"
    "- Share only confirmed, releasable information and say when the next update will come.\n"
    "- Record only counts and themes: contacts made, referrals offered, follow-up date.\n"
)


def playbook_yaml() -> str:
    lines = [
        f"id: {PLAYBOOK_ID}",
        "title: Benchmark fan-out (30 independent tasks)",
        "description: Generated by benchmarks/run.py; every task is assigned at once.",
        "triggers:",
        f"  incident_types: [{INCIDENT_TYPE}]",
        "  min_severity: low",
        "  auto: true",
        "tasks:",
    ]
    for index in range(TASKS_PER_PLAYBOOK):
        lines += [
            f"  - key: task-{index + 1:02d}",
            f"    title: Benchmark task {index + 1}",
            f"    role: {ROLES[index % len(ROLES)]}",
            "    tier: command",
            "    acknowledge_within: PT2H",
            "    due_within: P1D",
            "    instructions: |",
            *(f"      {line}" for line in INSTRUCTIONS.splitlines()),
        ]
    return "\n".join(lines) + "\n"


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


class GcWatch:
    """Counts the garbage collector's pauses while a phase runs (they stop the event loop)."""

    def __init__(self) -> None:
        self._started: float | None = None
        self.objects_before = 0
        self.objects_after = 0
        self.pauses_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.pauses_ms[info["generation"]].append((time.perf_counter() - self._started) * 1000)
            self._started = None

    def __enter__(self) -> GcWatch:
        self.objects_before = len(gc.get_objects())
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._callback)
        self.objects_after = len(gc.get_objects())

    def report(self) -> dict[str, Any]:
        return {
            **{
                f"gen{gen}": {
                    "collections": len(pauses),
                    "total_ms": ms(sum(pauses)),
                    "max_ms": ms(max(pauses, default=0.0)),
                }
                for gen, pauses in self.pauses_ms.items()
            },
            "tracked_objects_before": self.objects_before,
            "tracked_objects_after": self.objects_after,
        }


@contextlib.contextmanager
def profiled(directory: Path | None, name: str) -> Iterator[None]:
    """cProfile one phase (services and client alike: they share this thread)."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(directory / f"{name}.prof")
        say(f"profile of {name} written to {directory / f'{name}.prof'}")


def process_cpu_s(pid: int) -> float | None:
    """User plus system CPU seconds of another process (Linux /proc), None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by this (the services') process and by nats-server from now until read()."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.own = time.process_time()
        self.server = process_cpu_s(server_pid) if server_pid else None

    def read(self, client: float | None) -> dict[str, float | None]:
        server_now = process_cpu_s(self.server_pid) if self.server_pid else None
        return {
            "services_process_s": time.process_time() - self.own,
            "nats_server_s": (
                server_now - self.server
                if server_now is not None and self.server is not None
                else None
            ),
            "client_process_s": client,
        }


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


# ------------------------------------------------------------------------------------ bench


class CreatedWatch:
    """Counts `task.*.created` events per incident as the server publishes them (a plain core
    subscription; the timing itself comes from the stored messages' server timestamps)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._complete: dict[str, float] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}

    def complete(self, incident_id: str) -> asyncio.Future[float]:
        """Resolves with the perf_counter() at which the incident's last task was seen."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if incident_id in self._complete:
            future.set_result(self._complete.pop(incident_id))
        else:
            self._waiters[incident_id] = future
        return future

    async def on_message(self, msg: Msg) -> None:
        incident_id = msg.subject.split(".")[2]
        count = self._counts.get(incident_id, 0) + 1
        self._counts[incident_id] = count
        if count != TASKS_PER_PLAYBOOK:
            return
        seen = time.perf_counter()
        waiter = self._waiters.pop(incident_id, None)
        if waiter is None:
            self._complete[incident_id] = seen
        elif not waiter.done():
            waiter.set_result(seen)


@dataclass(frozen=True)
class FanOut:
    incident_id: str
    total_ms: float  # incident.logged stored -> last task.created stored (server clock)
    to_triggered_ms: float  # incident.logged -> playbook.triggered
    to_first_task_ms: float  # playbook.triggered -> first task.created
    tasks_span_ms: float  # first task.created -> last task.created
    client_ms: float  # client: command sent -> 30th task.created seen


class Bench:
    def __init__(self, options: Options, rt: Runtime, nc: Client) -> None:
        self.options = options
        self.rt = rt
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.watch = CreatedWatch()
        self.incidents: list[str] = []
        self.floor_payloads: list[bytes] = []
        self.run_id = uuid.uuid4().hex[:8]
        self.server_pid: int | None = None

    # ------------------------------------------------------------------------------ helpers

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

    # ------------------------------------------------------------------------------ fan-out

    async def log_incident(self, index: int) -> tuple[str, float]:
        request_id = f"bench-{self.run_id}-{index:06d}"
        sent = time.perf_counter()
        reply = await call(
            self.nc,
            subjects.CMD_INCIDENT_LOG,
            LogIncident(
                request_id=request_id,
                actor=ACTOR,
                incident_type=INCIDENT_TYPE,
                title=f"Benchmark incident {index}",
            ),
            timeout=REQUEST_TIMEOUT,
        )
        if not reply.ok or not isinstance(reply.data, dict):
            raise RuntimeError(f"log incident refused: {reply.error}")
        if reply.data.get("automatic_playbook") != PLAYBOOK_ID:
            raise RuntimeError(f"{PLAYBOOK_ID} was not triggered automatically: {reply.data}")
        incident_id: str = reply.data["incident"]["incident_id"]
        return incident_id, sent

    async def fan_out_once(self, index: int) -> FanOut:
        incident_id, sent = await self.log_incident(index)
        seen = await asyncio.wait_for(self.watch.complete(incident_id), FANOUT_TIMEOUT)
        self.incidents.append(incident_id)
        logged, triggered, created = await self.fan_out_times(incident_id)
        return FanOut(
            incident_id=incident_id,
            total_ms=(max(created) - logged) / 1e6,
            to_triggered_ms=(triggered - logged) / 1e6,
            to_first_task_ms=(min(created) - triggered) / 1e6,
            tasks_span_ms=(max(created) - min(created)) / 1e6,
            client_ms=(seen - sent) * 1000,
        )

    async def fan_out_times(self, incident_id: str) -> tuple[int, int, list[int]]:
        """Server timestamps of the incident, its run and each of its 30 task creations."""
        wanted = [
            subjects.incident_logged(incident_id),
            subjects.playbook_triggered(incident_id),
            *(
                subjects.task_event(incident_id, f"task-{i + 1:02d}", "created")
                for i in range(TASKS_PER_PLAYBOOK)
            ),
        ]
        found: dict[str, int] = {}
        for _ in range(500):
            missing = [s for s in wanted if s not in found]
            results = await asyncio.gather(
                *(self.get(subjects.EVENTS_STREAM, subject=s) for s in missing),
                return_exceptions=True,
            )
            for subject, result in zip(missing, results, strict=True):
                if isinstance(result, int):
                    found[subject] = result
                elif not isinstance(result, NotFoundError):
                    raise result
            if len(found) == len(wanted):
                return found[wanted[0]], found[wanted[1]], [found[s] for s in wanted[2:]]
            await asyncio.sleep(0.002)  # seen by the core subscription, not yet readable
        raise RuntimeError(f"events of {incident_id} never all became readable")

    async def fan_out(self, count: int, label: str) -> list[FanOut]:
        results: list[FanOut] = []
        for index in range(count):
            results.append(await self.fan_out_once(len(self.incidents)))
            if (index + 1) % 50 == 0:
                say(f"{label}: {index + 1}/{count} incidents")
        return results

    # -------------------------------------------------------------------------------- floor

    async def prepare_floor(self) -> None:
        """A stream configured like the events stream, and real TaskCreated bodies to publish
        (call after at least one incident has fanned out)."""
        await self.js.add_stream(
            StreamConfig(
                name=FLOOR_STREAM,
                description="Benchmark floor: plain pipelined publishes",
                subjects=[f"{FLOOR_SUBJECT}.>"],
                storage=StorageType.FILE,
                num_replicas=self.rt.settings.stream_replicas,
                duplicate_window=subjects.EVENTS.duplicate_window.total_seconds(),
                allow_direct=True,
            )
        )
        # The bodies of the first incident's real task.created events, as stored.
        incident_id = self.incidents[0]
        for i in range(TASKS_PER_PLAYBOOK):
            subject = subjects.task_event(incident_id, f"task-{i + 1:02d}", "created")
            msg = await self.js.get_msg(subjects.EVENTS_STREAM, subject=subject, direct=True)
            assert msg.data is not None
            self.floor_payloads.append(msg.data)

    def floor_headers(self, prefix: str, round_no: int, index: int, expect: bool) -> dict[str, str]:
        headers = {"Nats-Msg-Id": f"floor-{self.run_id}-{prefix}-{round_no}-{index}"}
        if expect:
            # What the engine sends with each task creation: "this task has no events yet".
            headers["Nats-Expected-Last-Subject-Sequence"] = "0"
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = (
                f"{FLOOR_SUBJECT}.{prefix}{round_no}.task-{index + 1:02d}.>"
            )
        return headers

    async def floor_once(self, round_no: int, expect: bool) -> tuple[float, float]:
        """30 pipelined publishes with message ids; (server first->last stored, client wall) ms.
        With `expect`, each also carries the engine's expected-last-subject-sequence check."""
        prefix = "x" if expect else "r"
        started = time.perf_counter()
        acks = await asyncio.gather(
            *(
                self.js.publish(
                    f"{FLOOR_SUBJECT}.{prefix}{round_no}.task-{i + 1:02d}.created",
                    payload,
                    stream=FLOOR_STREAM,
                    headers=self.floor_headers(prefix, round_no, i, expect),
                )
                for i, payload in enumerate(self.floor_payloads)
            )
        )
        wall_ms = (time.perf_counter() - started) * 1000
        seqs = [ack.seq for ack in acks]
        first, last = await asyncio.gather(
            self.get(FLOOR_STREAM, seq=min(seqs)), self.get(FLOOR_STREAM, seq=max(seqs))
        )
        return (last - first) / 1e6, wall_ms

    async def floor(
        self, rounds: int, first_round: int, expect: bool = False
    ) -> tuple[list[float], list[float]]:
        server: list[float] = []
        client: list[float] = []
        for index in range(rounds):
            server_ms, wall_ms = await self.floor_once(first_round + index, expect)
            server.append(server_ms)
            client.append(wall_ms)
        return server, client

    # -------------------------------------------------------------------------------- tasks

    async def assigned_tasks(self, incident_id: str) -> list[TaskRef]:
        for _ in range(200):
            reply = await call(
                self.nc,
                subjects.QRY_TASK_LIST,
                ListTasks(incident_id=incident_id),
                timeout=REQUEST_TIMEOUT,
            )
            if not reply.ok or not isinstance(reply.data, list):
                raise RuntimeError(f"task list refused: {reply.error}")
            ready = [
                TaskRef(t["task_id"], t["assignee"])
                for t in reply.data
                if t.get("status") == "assigned" and t.get("assignee")
            ]
            if len(ready) == TASKS_PER_PLAYBOOK:
                return ready
            await asyncio.sleep(0.05)  # the projector has not caught up yet
        raise RuntimeError(f"tasks of {incident_id} never all showed as assigned")

    async def task_pool(self, needed: int) -> list[TaskRef]:
        """Assigned tasks of the measured incidents (not the warm-up's), logging more if there
        are too few."""
        usable = self.incidents[self.options.warmup :]
        short = math.ceil(needed / TASKS_PER_PLAYBOOK) - len(usable)
        if short > 0:
            say(f"logging {short} more (unmeasured) incidents for tasks")
            await self.fan_out(short, "top-up")
        await self.quiesce()
        pool: list[TaskRef] = []
        for incident_id in self.incidents[self.options.warmup :]:
            if len(pool) >= needed:
                break
            pool += await self.assigned_tasks(incident_id)
        return pool

    # --------------------------------------------------------------------------- load runs

    async def in_process(
        self, tasks: Sequence[TaskRef], verbs: Sequence[TaskVerb], count: int, concurrency: int
    ) -> Measured:
        cpu = CpuMeter(self.server_pid)
        result = await drive(self.nc, tasks, verbs, count, concurrency)
        return Measured(result, cpu.read(client=None))

    async def separate_process(
        self, tasks: Sequence[TaskRef], verbs: Sequence[TaskVerb], count: int, concurrency: int
    ) -> Measured:
        job = {
            "url": self.rt.settings.nats_url,
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
        )
        cpu = CpuMeter(self.server_pid)
        out, _ = await process.communicate(json.dumps(job).encode())
        if process.returncode != 0:
            raise RuntimeError(f"load generator exited with {process.returncode}")
        data: dict[str, Any] = json.loads(out)
        result = DriveResult.from_json(data)
        # The client process starts up (imports) before it drives, while the services idle.
        return Measured(result, cpu.read(client=result.cpu_s))


# ----------------------------------------------------------------------------------- report


def drive_report(measured: Measured, *, where: str) -> dict[str, Any]:
    result = measured.result
    return {
        "client": where,
        "sent": result.sent,
        "ok": result.ok,
        "changed": result.changed,
        "errors": dict(result.errors),
        "elapsed_ms": ms(result.elapsed_s * 1000),
        "per_second": round(result.changed / result.elapsed_s, 1) if result.elapsed_s else 0.0,
        "latency": distribution(result.latencies_ms),
        "cpu": measured.cpu_report(),
    }


def target(name: str, rule: str, value: float, limit: float, *, at_most: bool) -> dict[str, Any]:
    passed = value <= limit if at_most else value >= limit
    return {
        "name": name,
        "target": rule,
        "value": round(value, 3),
        "limit": round(limit, 3),
        "pass": passed,
    }


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


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


async def benchmark(options: Options, workdir: Path) -> dict[str, Any]:
    began = time.perf_counter()
    load_before = load_average()
    port = free_port()
    server = EmbeddedNats(workdir / "nats", port)
    playbooks = workdir / "playbooks"
    playbooks.mkdir()
    (playbooks / f"{PLAYBOOK_ID}.yaml").write_text(playbook_yaml())
    settings = Settings(
        nats_url=server.url,
        data_dir=workdir / "nats",
        nats_port=port,
        playbooks_dir=playbooks,
        roster=ROSTER,
        log_format=LogFormat.JSON,
        log_level="warning",
    )
    configure_logging(settings.log_format, settings.log_level)
    rt = load_runtime(settings)

    say(f"starting nats-server on {server.url} (store {workdir / 'nats'}, sync_interval: always)")
    await server.start()
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    nc: Client | None = None
    try:
        running = asyncio.create_task(serve(rt, list(SERVICES), stop))
        await wait_attached(rt, running)
        nc = await connect(server.url, name="pathways-bench")
        bench = Bench(options, rt, nc)
        process = getattr(server, "_process", None)  # for CPU accounting only
        bench.server_pid = getattr(process, "pid", None)
        info: dict[str, Any] = dict(nc._server_info)
        watch = await nc.subscribe("pw.evt.*.task.*.created", cb=bench.watch.on_message)

        say(f"warm-up: {options.warmup} incidents and {options.warmup} floor rounds")
        await guarded(running, bench.fan_out(options.warmup, "warm-up"))
        await bench.prepare_floor()
        await guarded(running, bench.floor(options.warmup, first_round=0))
        await guarded(running, bench.floor(options.warmup, first_round=0, expect=True))
        await bench.quiesce()

        say(f"(b) floor: {options.floor_rounds} rounds of {TASKS_PER_PLAYBOOK} publishes")
        floor_server, floor_client = await guarded(
            running, bench.floor(options.floor_rounds, first_round=options.warmup)
        )
        say("(b) the same with the engine's expected-sequence headers (for reference)")
        expect_server, expect_client = await guarded(
            running, bench.floor(options.floor_rounds, first_round=options.warmup, expect=True)
        )
        await bench.quiesce()

        say(f"(a) fan-out: {options.incidents} incidents, one at a time")
        with profiled(options.profile_dir, "fanout"), GcWatch() as gc_fanout:
            fanouts = await guarded(running, bench.fan_out(options.incidents, "fan-out"))
        await bench.quiesce()
        await watch.unsubscribe()

        tasks_per_run = math.ceil(options.transitions / 3)
        runs_needed = 2 if options.separate_process else 1
        pool = await guarded(running, bench.task_pool(runs_needed * (options.acks + tasks_per_run)))
        ack_in, pool = pool[: options.acks], pool[options.acks :]
        ack_out: list[TaskRef] = []
        if options.separate_process:
            ack_out, pool = pool[: options.acks], pool[options.acks :]
        load_in, load_out = pool[:tasks_per_run], pool[tasks_per_run : 2 * tasks_per_run]
        ack = [TaskVerb.ACKNOWLEDGE]
        lifecycle = [TaskVerb.ACKNOWLEDGE, TaskVerb.START, TaskVerb.COMPLETE]

        say(f"(c) acknowledge round trip: {len(ack_in)} sequential commands (client in-process)")
        acks_in = await guarded(running, bench.in_process(ack_in, ack, options.acks, 1))
        await bench.quiesce()
        acks_out: Measured | None = None
        if options.separate_process:
            say(f"(c) acknowledge round trip: {len(ack_out)} sequential (client process)")
            acks_out = await guarded(running, bench.separate_process(ack_out, ack, options.acks, 1))
            await bench.quiesce()

        say(
            f"(d) throughput: {options.transitions} transitions, {options.concurrency} in flight "
            "(client in-process)"
        )
        with profiled(options.profile_dir, "throughput"):
            load_in_result = await guarded(
                running,
                bench.in_process(load_in, lifecycle, options.transitions, options.concurrency),
            )
        drain_in = await bench.quiesce()
        load_out_result: Measured | None = None
        drain_out = 0.0
        if options.separate_process:
            say(
                f"(d) throughput: {options.transitions} transitions, {options.concurrency} in "
                "flight (client process)"
            )
            load_out_result = await guarded(
                running,
                bench.separate_process(
                    load_out, lifecycle, options.transitions, options.concurrency
                ),
            )
            drain_out = await bench.quiesce()
    finally:
        stop.set()
        if running is not None:
            await asyncio.gather(running, return_exceptions=True)
        if nc is not None:
            await nc.close()
        await server.stop()

    fan = distribution([f.total_ms for f in fanouts])
    floor_s = distribution(floor_server)
    floor_c = distribution(floor_client)
    ratio_p50 = fan["p50_ms"] / floor_s["p50_ms"]
    ratio_p99 = fan["p99_ms"] / floor_s["p99_ms"]
    ack_report = drive_report(acks_in, where="same process and event loop as the services")
    throughput_in = drive_report(
        load_in_result, where="same process and event loop as the services"
    )
    throughput_in["reactions_drained_after_ms"] = ms(drain_in)
    throughput: dict[str, Any] = {
        "concurrency": options.concurrency,
        "verbs": [str(v) for v in lifecycle],
        "in_process": throughput_in,
    }
    targets = [
        target(
            "fanout_p50_vs_floor",
            f"fan-out p50 <= {TARGET_FANOUT_P50_X_FLOOR:g} x floor p50 (server clock)",
            fan["p50_ms"],
            TARGET_FANOUT_P50_X_FLOOR * floor_s["p50_ms"],
            at_most=True,
        ),
        target(
            "fanout_p99_vs_floor",
            f"fan-out p99 <= {TARGET_FANOUT_P99_X_FLOOR:g} x floor p99 (server clock)",
            fan["p99_ms"],
            TARGET_FANOUT_P99_X_FLOOR * floor_s["p99_ms"],
            at_most=True,
        ),
        target(
            "ack_round_trip_p50",
            f"acknowledge round trip p50 <= {TARGET_ACK_P50_MS:g} ms (client in-process)",
            ack_report["latency"]["p50_ms"],
            TARGET_ACK_P50_MS,
            at_most=True,
        ),
        target(
            "transitions_per_s_in_process",
            f">= {TARGET_TRANSITIONS_PER_S:,.0f} transitions/s (client in-process)",
            throughput_in["per_second"],
            TARGET_TRANSITIONS_PER_S,
            at_most=False,
        ),
    ]
    ack_section: dict[str, Any] = {"in_process": ack_report}
    if acks_out is not None:
        ack_section["separate_process"] = drive_report(acks_out, where="separate process")
    if load_out_result is not None:
        throughput_out = drive_report(load_out_result, where="separate process")
        throughput_out["reactions_drained_after_ms"] = ms(drain_out)
        throughput["separate_process"] = throughput_out
        targets.append(
            target(
                "transitions_per_s_separate_process",
                f">= {TARGET_TRANSITIONS_PER_S:,.0f} transitions/s (client in its own process)",
                throughput_out["per_second"],
                TARGET_TRANSITIONS_PER_S,
                at_most=False,
            )
        )

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        affinity = os.cpu_count() or 0
    return {
        "benchmark": "pathways",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {
            "incidents": options.incidents,
            "warmup_incidents": options.warmup,
            "tasks_per_playbook": TASKS_PER_PLAYBOOK,
            "playbook": PLAYBOOK_ID,
            "floor_rounds": options.floor_rounds,
            "floor_payload_bytes": round(
                sum(map(len, bench.floor_payloads)) / len(bench.floor_payloads)
            ),
            "acks": options.acks,
            "transitions": options.transitions,
            "concurrency": options.concurrency,
            "quick": options.quick,
            "server_version": info.get("version"),
            "server_go": info.get("go"),
            "server_jetstream_sync_interval": "always",
            "python_version": platform.python_version(),
            "python_implementation": platform.python_implementation(),
            "faststream_version": package_version("faststream"),
            "nats_py_version": package_version("nats-py"),
            "machine_cores": affinity,
            "machine_cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1m_before": load_before,
            "load_average_1m_after": load_average(),
            "services": list(SERVICES),
        },
        "notes": [
            "All services run in this one Python process (one asyncio event loop), as with "
            "`pathways up`; the in-process clients share that loop.",
            "Fan-out and floor are measured on the server clock: JetStream's stored timestamp "
            "of each message, read back with direct gets.",
            "Separate-process figures use a client in its own Python process; on this machine "
            "it shares the cores with nats-server and the services.",
        ],
        "fanout": {
            "definition": "incident.logged stored -> 30th task.created stored (server clock)",
            **fan,
            "breakdown_p50_ms": {
                "logged_to_triggered": ms(percentile([f.to_triggered_ms for f in fanouts], 50)),
                "triggered_to_first_task": ms(
                    percentile([f.to_first_task_ms for f in fanouts], 50)
                ),
                "first_to_last_task": ms(percentile([f.tasks_span_ms for f in fanouts], 50)),
            },
            "breakdown_p99_ms": {
                "logged_to_triggered": ms(percentile([f.to_triggered_ms for f in fanouts], 99)),
                "triggered_to_first_task": ms(
                    percentile([f.to_first_task_ms for f in fanouts], 99)
                ),
                "first_to_last_task": ms(percentile([f.tasks_span_ms for f in fanouts], 99)),
            },
            "client_observed": distribution([f.client_ms for f in fanouts]),
            "slowest": [
                {
                    "total_ms": ms(f.total_ms),
                    "logged_to_triggered_ms": ms(f.to_triggered_ms),
                    "triggered_to_first_task_ms": ms(f.to_first_task_ms),
                    "first_to_last_task_ms": ms(f.tasks_span_ms),
                }
                for f in sorted(fanouts, key=lambda f: f.total_ms, reverse=True)[:5]
            ],
            "gc_during_phase": gc_fanout.report(),
        },
        "floor": {
            "definition": (
                f"{TASKS_PER_PLAYBOOK} pipelined js.publish with Nats-Msg-Id (asyncio.gather)"
            ),
            "server": floor_s,
            "client_wall": floor_c,
            "with_expected_sequence": {
                "definition": (
                    "the same, each publish also carrying Nats-Expected-Last-Subject-Sequence(-"
                    "Subject) as the engine's task creations do; not used for the targets"
                ),
                "server": distribution(expect_server),
                "client_wall": distribution(expect_client),
            },
        },
        "ratios": {
            "fanout_over_floor_p50": round(ratio_p50, 3),
            "fanout_over_floor_p99": round(ratio_p99, 3),
        },
        "ack_round_trip": ack_section,
        "throughput": throughput,
        "targets": targets,
        "all_targets_pass": all(t["pass"] for t in targets),
        "elapsed_s": round(time.perf_counter() - began, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    os.environ["PATHWAYS_LOG_FORMAT"] = "json"
    os.environ["PATHWAYS_LOG_LEVEL"] = "warning"
    with tempfile.TemporaryDirectory(prefix="pathways-bench-") as tmp:
        report = loop.run(benchmark(options, Path(tmp)))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
