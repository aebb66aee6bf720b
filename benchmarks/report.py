"""The JSON report: the figures the phases measured, summarised, with the targets."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import PLAYBOOK_ID, TASKS_PER_PLAYBOOK
from benchmarks.drives import LIFECYCLE_VERBS, Measured
from benchmarks.fanout import FanOut
from benchmarks.options import Options
from benchmarks.probes import load_average, machine_cores, package_version
from benchmarks.publishes import PublishRun
from benchmarks.stats import distribution, ms, percentile
from benchmarks.targets import all_targets
from services.app import SERVICES

IN_PROCESS = "same process and event loop as the services"
SEPARATE_PROCESS = "separate process"

NOTES = (
    "All services run in this one Python process (one asyncio event loop), as with "
    "`pathways up`; the in-process clients share that loop.",
    "Fan-out and floor are measured on the server clock: JetStream's stored timestamp "
    "of each message, read back with direct gets.",
    "Separate-process figures use a client in its own Python process; on this machine "
    "it shares the cores with nats-server and the services.",
)


@dataclass(frozen=True)
class FloorFigures:
    """Per-round ms of the floor: server first->last stored and client wall, plain and with
    the engine's expected-sequence headers."""

    server: list[float]
    client: list[float]
    expect_server: list[float]
    expect_client: list[float]


@dataclass(frozen=True)
class LoadRun:
    measured: Measured
    drained_ms: float  # until the services' reactions had all been processed


@dataclass(frozen=True)
class Figures:
    """Everything the phases measured, for the report."""

    server_info: dict[str, Any]
    floor_payload_bytes: int
    load_average_before: float | None
    fanouts: list[FanOut]
    gc_fanout: dict[str, Any]
    floor: FloorFigures
    acks_in: Measured
    acks_out: Measured | None
    load_in: LoadRun
    load_out: LoadRun | None
    publishes: PublishRun


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


def load_run_report(run: LoadRun, *, where: str) -> dict[str, Any]:
    report = drive_report(run.measured, where=where)
    report["reactions_drained_after_ms"] = ms(run.drained_ms)
    return report


def config_report(options: Options, figures: Figures) -> dict[str, Any]:
    info = figures.server_info
    return {
        "incidents": options.incidents,
        "warmup_incidents": options.warmup,
        "tasks_per_playbook": TASKS_PER_PLAYBOOK,
        "playbook": PLAYBOOK_ID,
        "floor_rounds": options.floor_rounds,
        "floor_payload_bytes": figures.floor_payload_bytes,
        "acks": options.acks,
        "transitions": options.transitions,
        "concurrency": options.concurrency,
        "publishes": options.publishes,
        "quick": options.quick,
        "server_version": info.get("version"),
        "server_go": info.get("go"),
        "server_jetstream_sync_interval": "always",
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "faststream_version": package_version("faststream"),
        "nats_py_version": package_version("nats-py"),
        "machine_cores": machine_cores(),
        "machine_cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_1m_before": figures.load_average_before,
        "load_average_1m_after": load_average(),
        "services": list(SERVICES),
    }


def breakdown(fanouts: list[FanOut], q: float) -> dict[str, float]:
    """The q-th percentile of each stage of the fan-out, separately."""
    return {
        "logged_to_triggered": ms(percentile([f.to_triggered_ms for f in fanouts], q)),
        "triggered_to_first_task": ms(percentile([f.to_first_task_ms for f in fanouts], q)),
        "first_to_last_task": ms(percentile([f.tasks_span_ms for f in fanouts], q)),
    }


def slowest(fanouts: list[FanOut], count: int = 5) -> list[dict[str, float]]:
    return [
        {
            "total_ms": ms(f.total_ms),
            "logged_to_triggered_ms": ms(f.to_triggered_ms),
            "triggered_to_first_task_ms": ms(f.to_first_task_ms),
            "first_to_last_task_ms": ms(f.tasks_span_ms),
        }
        for f in sorted(fanouts, key=lambda f: f.total_ms, reverse=True)[:count]
    ]


def fanout_report(figures: Figures, fan: dict[str, Any]) -> dict[str, Any]:
    fanouts = figures.fanouts
    return {
        "definition": "incident.logged stored -> 30th task.created stored (server clock)",
        **fan,
        "breakdown_p50_ms": breakdown(fanouts, 50),
        "breakdown_p99_ms": breakdown(fanouts, 99),
        "client_observed": distribution([f.client_ms for f in fanouts]),
        "slowest": slowest(fanouts),
        "gc_during_phase": figures.gc_fanout,
    }


def floor_report(floor: FloorFigures, server: dict[str, Any]) -> dict[str, Any]:
    return {
        "definition": (
            f"{TASKS_PER_PLAYBOOK} pipelined js.publish with Nats-Msg-Id (asyncio.gather)"
        ),
        "server": server,
        "client_wall": distribution(floor.client),
        "with_expected_sequence": {
            "definition": (
                "the same, each publish also carrying Nats-Expected-Last-Subject-Sequence(-"
                "Subject) as the engine's task creations do; not used for the targets"
            ),
            "server": distribution(floor.expect_server),
            "client_wall": distribution(floor.expect_client),
        },
    }


def ack_report(figures: Figures) -> dict[str, Any]:
    section: dict[str, Any] = {"in_process": drive_report(figures.acks_in, where=IN_PROCESS)}
    if figures.acks_out is not None:
        section["separate_process"] = drive_report(figures.acks_out, where=SEPARATE_PROCESS)
    return section


def throughput_report(options: Options, figures: Figures) -> dict[str, Any]:
    section: dict[str, Any] = {
        "concurrency": options.concurrency,
        "verbs": [str(v) for v in LIFECYCLE_VERBS],
        "in_process": load_run_report(figures.load_in, where=IN_PROCESS),
    }
    if figures.load_out is not None:
        section["separate_process"] = load_run_report(figures.load_out, where=SEPARATE_PROCESS)
    return section


def publish_floor_report(run: PublishRun) -> dict[str, Any]:
    return {
        "definition": (
            "js.publish of a task.created body to a scratch stream configured like the events "
            "stream, each awaiting its acknowledgement, with its own subject and Nats-Msg-Id; "
            "as many in flight as the throughput run has commands"
        ),
        "publishes": run.publishes,
        "concurrency": run.concurrency,
        "payload_bytes": run.payload_bytes,
        "elapsed_ms": ms(run.elapsed_s * 1000),
        "per_second": round(run.per_second, 1),
    }


def throughput_ratios(throughput: dict[str, Any], publishes: PublishRun) -> dict[str, float]:
    """Transitions/s as a fraction of raw acknowledged publishes/s on the same server."""
    ratios = {
        "throughput_in_process_over_publish_floor": round(
            throughput["in_process"]["per_second"] / publishes.per_second, 4
        )
    }
    if "separate_process" in throughput:
        ratios["throughput_separate_process_over_publish_floor"] = round(
            throughput["separate_process"]["per_second"] / publishes.per_second, 4
        )
    return ratios


def build_report(options: Options, figures: Figures, *, began: float) -> dict[str, Any]:
    """The printed report; `began` is the perf_counter() at which the benchmark started."""
    fan = distribution([f.total_ms for f in figures.fanouts])
    floor_server = distribution(figures.floor.server)
    ack_section = ack_report(figures)
    throughput = throughput_report(options, figures)
    targets = all_targets(fan, floor_server, ack_section, throughput)
    return {
        "benchmark": "pathways",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config_report(options, figures),
        "notes": list(NOTES),
        "fanout": fanout_report(figures, fan),
        "floor": floor_report(figures.floor, floor_server),
        "ratios": {
            "fanout_over_floor_p50": round(fan["p50_ms"] / floor_server["p50_ms"], 3),
            "fanout_over_floor_p99": round(fan["p99_ms"] / floor_server["p99_ms"], 3),
            **throughput_ratios(throughput, figures.publishes),
        },
        "ack_round_trip": ack_section,
        "throughput": throughput,
        "publish_floor": publish_floor_report(figures.publishes),
        "targets": targets,
        "all_targets_pass": all(t["pass"] for t in targets),
        "elapsed_s": round(time.perf_counter() - began, 1),
    }
