"""`python -m benchmarks.run --quick` runs end to end and prints a report of the documented shape.

Only the shape is checked: every expected key, of the right type, every figure finite and
positive (or non-negative where zero is a real outcome). The figures themselves depend on the
machine and are never asserted."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.bench

Check = Callable[[Any], bool]


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def positive(value: Any) -> bool:
    return number(value) and value > 0


def non_negative(value: Any) -> bool:
    return number(value) and value >= 0


def count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def flag(value: Any) -> bool:
    return isinstance(value, bool)


DISTRIBUTION = {
    "samples": count,
    **{key: positive for key in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "max_ms")},
    "min_ms": non_negative,
}
STAGES = {
    key: non_negative
    for key in ("logged_to_triggered", "triggered_to_first_task", "first_to_last_task")
}
CPU = {
    "note": text,
    **{
        key: optional(non_negative)
        for key in (
            "services_process_s",
            "services_process_cores",
            "nats_server_s",
            "nats_server_cores",
        )
    },
}
DRIVE = {
    "client": text,
    "sent": count,
    "ok": count,
    "changed": count,
    "errors": dict,
    "elapsed_ms": positive,
    "per_second": positive,
    "latency": DISTRIBUTION,
    "cpu": CPU,
}
LOAD = {**DRIVE, "reactions_drained_after_ms": non_negative}

REPORT: dict[str, Any] = {
    "benchmark": text,
    "generated_at": text,
    "config": {
        **{
            key: count
            for key in (
                "incidents",
                "warmup_incidents",
                "tasks_per_playbook",
                "floor_rounds",
                "floor_payload_bytes",
                "acks",
                "transitions",
                "concurrency",
                "publishes",
                "machine_cpu_count",
            )
        },  # fmt: skip
        "quick": flag,
        "playbook": text,
        "server_version": text,
        "python_version": text,
        "nats_py_version": text,
        "faststream_version": text,
        "load_average_1m_before": optional(non_negative),
        "load_average_1m_after": optional(non_negative),
        "services": list,
    },
    "notes": list,
    "fanout": {
        "definition": text,
        **DISTRIBUTION,
        "breakdown_p50_ms": STAGES,
        "breakdown_p99_ms": STAGES,
        "client_observed": DISTRIBUTION,
        "slowest": list,
        "gc_during_phase": dict,
    },
    "floor": {
        "definition": text,
        "server": DISTRIBUTION,
        "client_wall": DISTRIBUTION,
        "with_expected_sequence": {
            "definition": text,
            "server": DISTRIBUTION,
            "client_wall": DISTRIBUTION,
        },
    },
    "ratios": {
        "fanout_over_floor_p50": positive,
        "fanout_over_floor_p99": positive,
        "throughput_in_process_over_publish_floor": positive,
        "throughput_separate_process_over_publish_floor": positive,
    },
    "ack_round_trip": {"in_process": DRIVE, "separate_process": DRIVE},
    "throughput": {
        "concurrency": count,
        "verbs": list,
        "in_process": LOAD,
        "separate_process": LOAD,
    },
    "publish_floor": {
        "definition": text,
        "publishes": count,
        "concurrency": count,
        "payload_bytes": count,
        "elapsed_ms": positive,
        "per_second": positive,
    },
    "targets": list,
    "all_targets_pass": flag,
    "elapsed_s": positive,
}
TARGET = {"name": text, "target": text, "value": positive, "limit": positive, "pass": flag}


def problems(spec: Any, value: Any, path: str = "report") -> list[str]:
    """What in `value` does not fit `spec` (a dict of specs, a type, or a check)."""
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        return [
            found
            for key, inner in spec.items()
            for found in (
                problems(inner, value[key], f"{path}.{key}")
                if key in value
                else [f"{path}.{key}: missing"]
            )
        ]
    if isinstance(spec, type):
        return (
            [] if isinstance(value, spec) else [f"{path}: expected {spec.__name__}, got {value!r}"]
        )
    return [] if spec(value) else [f"{path}: unexpected {value!r}"]


def test_quick_benchmark_prints_a_report_of_the_documented_shape() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)

    found = problems(REPORT, report)
    for index, target in enumerate(report["targets"]):
        found += problems(TARGET, target, f"report.targets[{index}]")
    assert not found, "\n".join(found)
    assert len(report["targets"]) == 5
    assert len(report["fanout"]["slowest"]) == 5
    assert report["config"]["quick"] is True
    assert report["publish_floor"]["publishes"] == report["config"]["publishes"]


TOPOLOGY = {
    "floor_schedule_fire": {**DISTRIBUTION, "min_ms": number},
    "escalation_event_received": {**DISTRIBUTION, "min_ms": number},
    "escalation_event_time": {**DISTRIBUTION, "min_ms": number},
    "email_accepted": {**DISTRIBUTION, "min_ms": number},
    "p99_ratio_to_floor": positive,
    "email_p99_ratio_to_floor": positive,
    "meets_target": flag,
}
DEADLINES = {
    "tasks": count,
    "lead_seconds": positive,
    "load_average_before": optional(non_negative),
    "target_p99_ms": positive,
    "target_email_p99_ms": positive,
    "as_deployed": TOPOLOGY,
    "one_process": TOPOLOGY,
}


def test_deadlines_benchmark_prints_a_report_of_the_documented_shape() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--deadlines", "--tasks", "30", "--lead", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert not problems(DEADLINES, report), "\n".join(problems(DEADLINES, report))
    for topology in ("as_deployed", "one_process"):
        assert report[topology]["escalation_event_received"]["samples"] == 30
        assert report[topology]["email_accepted"]["samples"] == 30
