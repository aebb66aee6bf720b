"""Tasks for the command runs (c) and (d): the assigned tasks of the measured incidents, shared
out so that no two runs act on the same task."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from benchmarks.bench import Bench
from benchmarks.common import REQUEST_TIMEOUT, TASKS_PER_PLAYBOOK, say
from benchmarks.fanout import FanOutPhase
from benchmarks.load import TaskRef
from schemas import subjects
from schemas.commands import ListTasks
from services.core.rpc import call
from tests.support import caller


async def assigned_tasks(bench: Bench, incident_id: str) -> list[TaskRef]:
    for _ in range(200):
        query = ListTasks(incident_id=incident_id)
        reply = await call(
            bench.nc, subjects.QRY_TASK_LIST, query, caller(query), timeout=REQUEST_TIMEOUT
        )
        if not reply.ok or not isinstance(reply.data, dict):
            raise RuntimeError(f"task list refused: {reply.error}")
        ready = [
            TaskRef(t["task_id"], t["assignee"])
            for t in reply.data["items"]
            if t.get("status") == "assigned" and t.get("assignee")
        ]
        if len(ready) == TASKS_PER_PLAYBOOK:
            return ready
        await asyncio.sleep(0.05)  # the projector has not caught up yet
    raise RuntimeError(f"tasks of {incident_id} never all showed as assigned")


async def task_pool(fanout: FanOutPhase, needed: int, *, warmup: int) -> list[TaskRef]:
    """Assigned tasks of the measured incidents (not the `warmup` first ones), logging more if
    there are too few."""
    bench = fanout.bench
    usable = bench.incidents[warmup:]
    short = math.ceil(needed / TASKS_PER_PLAYBOOK) - len(usable)
    if short > 0:
        say(f"logging {short} more (unmeasured) incidents for tasks")
        await fanout.run(short, "top-up")
    await bench.quiesce()
    pool: list[TaskRef] = []
    for incident_id in bench.incidents[warmup:]:
        if len(pool) >= needed:
            break
        pool += await assigned_tasks(bench, incident_id)
    return pool


@dataclass(frozen=True)
class Pools:
    """Disjoint tasks for each run; the separate-process ones are empty when those are skipped."""

    ack_in: list[TaskRef]
    ack_out: list[TaskRef]
    load_in: list[TaskRef]
    load_out: list[TaskRef]


def tasks_per_load_run(transitions: int) -> int:
    """A load run takes each task through three transitions."""
    return math.ceil(transitions / 3)


def tasks_needed(acks: int, transitions: int, separate_process: bool) -> int:
    runs = 2 if separate_process else 1
    return runs * (acks + tasks_per_load_run(transitions))


def split_pool(
    pool: list[TaskRef], *, acks: int, transitions: int, separate_process: bool
) -> Pools:
    per_run = tasks_per_load_run(transitions)
    ack_in, pool = pool[:acks], pool[acks:]
    ack_out: list[TaskRef] = []
    if separate_process:
        ack_out, pool = pool[:acks], pool[acks:]
    return Pools(ack_in, ack_out, pool[:per_run], pool[per_run : 2 * per_run])
