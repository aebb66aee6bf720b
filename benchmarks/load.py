"""Driving task commands at the services: shared by the in-process run and the client process.

A driver works through a list of (task id, assignee) pairs. Each of `concurrency` workers takes
the next task and sends `verbs` to it one after another (a task's transitions are sequential, as
a responder's would be); workers run side by side, so up to `concurrency` commands are in flight.
It stops after `transitions` commands have been sent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client

from schemas import subjects
from schemas.commands import ActOnTask, TaskVerb
from services.core.rpc import ServiceUnavailable, call
from tests.support import caller

ACTOR_TIMEOUT = 10.0


@dataclass(frozen=True)
class TaskRef:
    task_id: str
    assignee: str


@dataclass
class DriveResult:
    sent: int = 0
    ok: int = 0
    changed: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0  # CPU time of the process the driver ran in, while it ran
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "ok": self.ok,
            "changed": self.changed,
            "elapsed_s": self.elapsed_s,
            "cpu_s": self.cpu_s,
            "latencies_ms": self.latencies_ms,
            "errors": dict(self.errors),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DriveResult:
        return cls(
            sent=int(data["sent"]),
            ok=int(data["ok"]),
            changed=int(data["changed"]),
            elapsed_s=float(data["elapsed_s"]),
            cpu_s=float(data["cpu_s"]),
            latencies_ms=[float(x) for x in data["latencies_ms"]],
            errors=Counter({str(k): int(v) for k, v in data["errors"].items()}),
        )


async def drive(
    nc: Client,
    tasks: Sequence[TaskRef],
    verbs: Sequence[TaskVerb],
    transitions: int,
    concurrency: int,
) -> DriveResult:
    result = DriveResult()
    pending = iter(tasks)

    async def worker() -> None:
        for task in pending:
            for verb in verbs:
                if result.sent >= transitions:
                    return
                result.sent += 1
                command = ActOnTask(
                    request_id=uuid.uuid4().hex,
                    actor=task.assignee,
                    verb=verb,
                    task_id=task.task_id,
                )
                started = time.perf_counter()
                try:
                    signed = caller(command)
                    reply = await call(
                        nc, subjects.CMD_TASK_ACT, command, signed, timeout=ACTOR_TIMEOUT
                    )
                except ServiceUnavailable:
                    result.errors["timeout"] += 1
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                if reply.ok:
                    result.ok += 1
                    result.changed += int(reply.changed)
                else:
                    result.errors[reply.error.code if reply.error else "unknown"] += 1

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    result.cpu_s = time.process_time() - cpu_started
    return result
