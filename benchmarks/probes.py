"""Looking at the machine while the benchmark runs: garbage-collector pauses, cProfile, CPU
time, load average, core count and package versions."""

from __future__ import annotations

import contextlib
import cProfile
import gc
import os
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.common import say
from benchmarks.stats import ms


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


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_cores() -> int:
    """The cores this process may run on (all of them where affinity is not available)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 0


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
