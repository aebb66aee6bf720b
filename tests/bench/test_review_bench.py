"""`python -m benchmarks.review --quick` runs end to end and prints a report of the documented
shape. Only the shape is checked, never the figures: those depend on the machine."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.bench.test_quick_bench import (
    count,
    flag,
    non_negative,
    optional,
    positive,
    problems,
    text,
)
from tests.support import ROOT

pytestmark = pytest.mark.bench

FIGURE = {"samples": count, "median_ms": positive, "min_ms": positive, "max_ms": positive}
REPORT: dict[str, Any] = {
    "benchmark": text,
    "config": {
        "events": count,
        "rounds": count,
        "quick": flag,
        "incident_id": text,
        "write_seconds": non_negative,
        "record_verified": flag,
        "machine_cpu_count": count,
    },
    "load_average_before": optional(non_negative),
    "load_average_after": optional(non_negative),
    "floor": {"definition": text, **FIGURE, "bytes": count},
    "path": {"definition": text, **FIGURE, "html_bytes": count},
    "ratio_path_over_floor": positive,
    "target_ratio": positive,
    "pass": flag,
    "over_nats": {"reply_bytes": count, "max_payload": count, "parts": count, **FIGURE},
}


def test_quick_review_benchmark_prints_a_report_of_the_documented_shape() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.review", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)

    found = problems(REPORT, report)
    assert not found, "\n".join(found)
    assert report["benchmark"] == "review"
    assert report["config"] == {**report["config"], "events": 1000, "rounds": 1, "quick": True}
    assert report["floor"]["samples"] == report["path"]["samples"] == 1
