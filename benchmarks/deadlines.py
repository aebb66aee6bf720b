"""Deadlines at scale: `python -m benchmarks.run --deadlines` (`make bench ARGS=--deadlines`).

One incident whose 1,000 tasks all fall due for acknowledgement at the same instant: the lateness
from that instant to each task's escalation event reaching a subscriber, next to a floor measured
in the same run on the same server: 1,000 bare NATS scheduled messages due at one instant, from
their due time to their delivery to a consumer. Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nats.aio.msg import Msg

from benchmarks.common import ACTOR, say
from benchmarks.playbook import write_playbooks
from benchmarks.probes import load_average
from benchmarks.stack import Stack, running_stack
from benchmarks.stats import distribution
from schemas import subjects
from schemas.commands import LogIncident
from schemas.enums import Severity
from schemas.events import TaskEscalated
from services.core import loop
from services.core.rpc import call

PLAYBOOK_ID = "bench-deadlines"
TARGET_P99_MS = 1000.0
LEAD = 45.0  # seconds from logging to the deadline: time to fan out and set every timer


def deadlines_playbook(tasks: int) -> str:
    """Tasks acknowledged within an hour (LEAD seconds at the run's time scale), each with a
    one-step chain, so every task has one escalation at the same instant."""
    lines = [
        f"id: {PLAYBOOK_ID}",
        f"title: Benchmark deadlines ({tasks} tasks due at one instant)",
        "triggers:",
        f"  incident_types: [{PLAYBOOK_ID}]",
        "  min_severity: low",
        "tasks:",
    ]
    roles = ("community_liaison", "victim_advocate", "peer_support")
    for index in range(tasks):
        lines += [
            f"  - key: deadline-{index + 1:05d}",
            f"    title: Deadline {index + 1}",
            f"    role: {roles[index % len(roles)]}",
            "    acknowledge_within: PT1H",
            "    due_within: P30D",
            "    escalation:",
            "      remind_before_due: []",
            "      steps:",
            "        - action: remind",
        ]
    return "\n".join(lines) + "\n"


def with_deadlines_playbook(tasks: int) -> Any:
    def write(workdir: Path) -> Path:
        playbooks = write_playbooks(workdir)
        (playbooks / f"{PLAYBOOK_ID}.yaml").write_text(deadlines_playbook(tasks))
        return playbooks

    return write


async def floor(stack: Stack, count: int) -> list[float]:
    """Lateness (ms) of `count` bare schedules due at one instant, as a consumer receives them."""
    js = stack.nc.jetstream()
    received: dict[str, float] = {}
    done = asyncio.Event()

    async def on_message(msg: Msg) -> None:
        received[msg.subject] = time.time()
        await msg.ack()
        if len(received) >= count:
            done.set()

    sub = await js.subscribe(
        "pw.timer.bench.>", stream=subjects.TIMERS_STREAM, cb=on_message, manual_ack=True
    )
    due = datetime.now(UTC) + timedelta(seconds=5)
    stamp = f"@at {due.isoformat(timespec='milliseconds')[:-6]}Z"
    for index in range(count):
        await js.publish(
            f"pw.sched.bench.{index}",
            b"{}",
            stream=subjects.TIMERS_STREAM,
            headers={"Nats-Schedule": stamp, "Nats-Schedule-Target": f"pw.timer.bench.{index}"},
        )
    await asyncio.wait_for(done.wait(), timeout=60)
    await sub.unsubscribe()
    return [(at - due.timestamp()) * 1000 for at in received.values()]


async def escalations(stack: Stack, tasks: int, lead: float) -> tuple[list[float], list[float]]:
    """Lateness (ms) of each task's escalation: to the subscriber, and to the event's own time."""
    scale = lead / 3600
    arrived: dict[str, float] = {}
    stamped: dict[str, datetime] = {}
    deadline: list[datetime] = []
    done = asyncio.Event()

    async def on_event(msg: Msg) -> None:
        event = TaskEscalated.model_validate_json(msg.data)
        arrived.setdefault(event.task.task_id, time.time())
        stamped.setdefault(event.task.task_id, event.at)
        if event.task.acknowledge_by and not deadline:
            deadline.append(event.task.acknowledge_by)
        if len(arrived) >= tasks:
            done.set()

    sub = await stack.nc.subscribe("pw.evt.*.task.*.escalated", cb=on_event)
    reply = await call(
        stack.nc,
        subjects.CMD_INCIDENT_LOG,
        LogIncident(
            request_id=uuid.uuid4().hex,
            actor=ACTOR,
            incident_type=PLAYBOOK_ID,
            title="Deadlines benchmark",
            severity=Severity.HIGH,
            exercise=True,
            time_scale=scale,
        ),
        timeout=30,
    )
    if not reply.ok:
        raise RuntimeError(f"logging the incident failed: {reply.error}")
    say(f"logged; {tasks} acknowledgements fall due in {lead:g} s")
    await asyncio.wait_for(done.wait(), timeout=lead + 120)
    await sub.unsubscribe()
    due = deadline[0]
    to_subscriber = [(at - due.timestamp()) * 1000 for at in arrived.values()]
    to_event = [(at - due).total_seconds() * 1000 for at in stamped.values()]
    return to_subscriber, to_event


async def benchmark(tasks: int, lead: float, workdir: Path) -> dict[str, Any]:
    load_before = load_average()
    async with running_stack(workdir, with_deadlines_playbook(tasks)) as stack:
        say(f"floor: {tasks} bare schedules due at one instant")
        bare = await stack.guarded(floor(stack, tasks))
        say(f"escalations: {tasks} tasks whose acknowledgement falls due at one instant")
        to_subscriber, to_event = await stack.guarded(escalations(stack, tasks, lead))
    escalated = distribution(to_subscriber)
    raw = distribution(bare)
    return {
        "tasks": tasks,
        "lead_seconds": lead,
        "load_average_before": load_before,
        "floor_schedule_fire": raw,
        "escalation_event_received": escalated,
        "escalation_event_time": distribution(to_event),
        "p99_ratio_to_floor": round(escalated["p99_ms"] / max(raw["p99_ms"], 1.0), 2),
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": escalated["p99_ms"] <= TARGET_P99_MS,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.run --deadlines", description=__doc__)
    parser.add_argument("--deadlines", action="store_true", help="this run (required)")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks due at one instant")
    parser.add_argument(
        "--lead", type=float, default=LEAD, help="seconds from logging to the deadline"
    )
    options = parser.parse_args(argv)
    os.environ["PATHWAYS_LOG_FORMAT"] = "json"
    os.environ["PATHWAYS_LOG_LEVEL"] = "warning"
    with tempfile.TemporaryDirectory(prefix="pathways-bench-") as tmp:
        report = loop.run(benchmark(options.tasks, options.lead, Path(tmp)))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
