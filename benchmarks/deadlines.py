"""Deadlines at scale: `python -m benchmarks.run --deadlines` (`make bench ARGS=--deadlines`).

One incident whose 1,000 tasks all fall due for acknowledgement at the same instant: the lateness
from that instant to each task's escalation event reaching a subscriber, and to its email being
accepted by an SMTP server (aiosmtpd), next to a floor measured in the same run on the same
server: 1,000 bare NATS scheduled messages due at one instant, from their due time to their
delivery to a consumer. Run with each service in a process of its own (as deployed) and with all
in one process (as `pathways up`). Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from nats.aio.client import Client
from nats.aio.msg import Msg

from benchmarks.common import ACTOR, ROSTER, say
from benchmarks.playbook import write_playbooks
from benchmarks.probes import load_average
from benchmarks.processes import running_processes
from benchmarks.stack import running_stack
from benchmarks.stats import distribution
from schemas import subjects
from schemas.commands import LogIncident
from schemas.enums import Severity
from schemas.events import TaskEscalated
from services.core import loop
from services.core.embedded import free_port
from services.core.logging import configure_logging
from services.core.rpc import call
from services.core.settings import LogFormat
from tests.support import caller

T = TypeVar("T")

PLAYBOOK_ID = "bench-deadlines"
TARGET_P99_MS = 1000.0
TARGET_EMAIL_P99_MS = 2000.0
MAIL_FROM = "Pathways <pathways@bench.example.org>"
SERVICES = ("intake", "engine", "projector", "notifier")
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


async def floor(stack: Guarded, count: int) -> list[float]:
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


class MailClock:
    """An SMTP server (aiosmtpd, in a thread) that notes when it accepted each escalation
    email: those whose Message-ID names an `escalated` event."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        at = time.time()
        message = email.message_from_bytes(envelope.original_content or b"")
        message_id = str(message.get("Message-ID", ""))
        if "=escalated=" in message_id:
            self.accepted.setdefault(message_id, at)
        return "250 OK"


@contextlib.contextmanager
def mail_server() -> Iterator[tuple[MailClock, str]]:
    clock = MailClock()
    controller = Controller(clock, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield clock, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


def local_roster(workdir: Path) -> Path:
    """The example roster, reaching its members by inbox and email only, at once: its delayed
    SMS and webhook channels would leave the machine."""
    roster = yaml.safe_load(ROSTER.read_text())
    for member in roster["members"]:
        member["channels"] = [
            {k: v for k, v in c.items() if k != "after"}
            for c in member["channels"]
            if c["kind"] in ("inbox", "email")
        ]
    path = workdir / "roster.yaml"
    path.write_text(yaml.safe_dump(roster, sort_keys=False))
    return path


class Guarded(Protocol):
    @property
    def nc(self) -> Client: ...

    async def guarded(self, work: Awaitable[T]) -> T: ...


@dataclass
class Lateness:
    """Milliseconds from the deadline, per task: to the escalation event reaching a
    subscriber, to the time the engine stamped on it, and to its email being accepted."""

    received: list[float]
    stamped: list[float]
    mailed: list[float]


async def escalations(stack: Guarded, tasks: int, lead: float, mail: MailClock) -> Lateness:
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
    command = LogIncident(
        request_id=uuid.uuid4().hex,
        actor=ACTOR,
        incident_type=PLAYBOOK_ID,
        title="Deadlines benchmark",
        severity=Severity.HIGH,
        exercise=True,
        time_scale=scale,
    )
    reply = await call(stack.nc, subjects.CMD_INCIDENT_LOG, command, caller(command), timeout=30)
    if not reply.ok:
        raise RuntimeError(f"logging the incident failed: {reply.error}")
    say(f"logged; {tasks} acknowledgements fall due in {lead:g} s")
    await stack.guarded(asyncio.wait_for(done.wait(), timeout=lead + 120))
    await sub.unsubscribe()
    say("every escalation event is in; waiting for their emails")
    await stack.guarded(_mailed(mail, tasks, timeout=120))
    due = deadline[0].timestamp()
    return Lateness(
        received=[(at - due) * 1000 for at in arrived.values()],
        stamped=[(at.timestamp() - due) * 1000 for at in stamped.values()],
        mailed=[(at - due) * 1000 for at in mail.accepted.values()],
    )


async def _mailed(mail: MailClock, count: int, timeout: float) -> None:
    give_up = time.monotonic() + timeout
    while len(mail.accepted) < count:
        if time.monotonic() > give_up:
            raise RuntimeError(f"{len(mail.accepted)} of {count} escalation emails in {timeout:g}s")
        await asyncio.sleep(0.2)


def figures(bare: list[float], late: Lateness) -> dict[str, Any]:
    raw = distribution(bare)
    received, mailed = distribution(late.received), distribution(late.mailed)
    floor_p99 = max(raw["p99_ms"], 1.0)
    return {
        "floor_schedule_fire": raw,
        "escalation_event_received": received,
        "escalation_event_time": distribution(late.stamped),
        "email_accepted": mailed,
        "p99_ratio_to_floor": round(received["p99_ms"] / floor_p99, 2),
        "email_p99_ratio_to_floor": round(mailed["p99_ms"] / floor_p99, 2),
        "meets_target": received["p99_ms"] <= TARGET_P99_MS
        and mailed["p99_ms"] <= TARGET_EMAIL_P99_MS,
    }


async def as_deployed(tasks: int, lead: float, workdir: Path) -> dict[str, Any]:
    """Each service a process of its own, logging at info to a file."""
    with mail_server() as (mail, smtp_url):
        settings = {
            "PATHWAYS_PLAYBOOKS_DIR": str(with_deadlines_playbook(tasks)(workdir)),
            "PATHWAYS_ROSTER": str(local_roster(workdir)),
            "PATHWAYS_SMTP_URL": smtp_url,
            "PATHWAYS_MAIL_FROM": MAIL_FROM,
            "PATHWAYS_LOG_LEVEL": "info",  # as deployed; and `services_started` says ready
        }
        async with running_processes(workdir, SERVICES, settings) as stack:
            say(f"floor: {tasks} bare schedules due at one instant")
            bare = await stack.guarded(floor(stack, tasks))
            say(f"escalations: {tasks} tasks whose acknowledgement falls due at one instant")
            late = await escalations(stack, tasks, lead, mail)
    return figures(bare, late)


async def in_one_process(tasks: int, lead: float, workdir: Path) -> dict[str, Any]:
    """Every service in one process, as `pathways up` runs them."""
    with mail_server() as (mail, smtp_url), _environment(smtp_url):
        roster = local_roster(workdir)
        async with running_stack(workdir, with_deadlines_playbook(tasks), roster) as stack:
            say(f"floor: {tasks} bare schedules due at one instant")
            bare = await stack.guarded(floor(stack, tasks))
            say(f"escalations: {tasks} tasks whose acknowledgement falls due at one instant")
            late = await escalations(stack, tasks, lead, mail)
    return figures(bare, late)


@contextlib.contextmanager
def _environment(smtp_url: str) -> Iterator[None]:
    """The notifier in this process reads its settings from the environment."""
    saved = {k: os.environ.get(k) for k in ("PATHWAYS_SMTP_URL", "PATHWAYS_MAIL_FROM")}
    os.environ.update(PATHWAYS_SMTP_URL=smtp_url, PATHWAYS_MAIL_FROM=MAIL_FROM)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


TOPOLOGIES = {"as_deployed": as_deployed, "one_process": in_one_process}


async def benchmark(tasks: int, lead: float, workdir: Path, topologies: Sequence[str]) -> Any:
    report: dict[str, Any] = {
        "tasks": tasks,
        "lead_seconds": lead,
        "load_average_before": load_average(),
        "target_p99_ms": TARGET_P99_MS,
        "target_email_p99_ms": TARGET_EMAIL_P99_MS,
    }
    for name in topologies:
        say(f"--- {name}: {TOPOLOGIES[name].__doc__}")
        (workdir / name).mkdir()
        report[name] = await TOPOLOGIES[name](tasks, lead, workdir / name)
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.run --deadlines", description=__doc__)
    parser.add_argument("--deadlines", action="store_true", help="this run (required)")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks due at one instant")
    parser.add_argument(
        "--lead", type=float, default=LEAD, help="seconds from logging to the deadline"
    )
    parser.add_argument(
        "--topology",
        choices=[*TOPOLOGIES, "both"],
        default="both",
        help="a process per service (as deployed), all in one (as `pathways up`), or both",
    )
    options = parser.parse_args(argv)
    os.environ["PATHWAYS_LOG_FORMAT"] = "json"
    os.environ["PATHWAYS_LOG_LEVEL"] = "warning"
    configure_logging(LogFormat.JSON, "warning")  # stdout is for the report
    chosen = list(TOPOLOGIES) if options.topology == "both" else [options.topology]
    with tempfile.TemporaryDirectory(prefix="pathways-bench-") as tmp:
        report = loop.run(benchmark(options.tasks, options.lead, Path(tmp), chosen))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
