"""The after-action report of one long incident: `python -m benchmarks.review [--events 10000]
[--rounds 5] [--quick]`.

Starts its own nats-server (free port, temporary store) and the timeline service in this process,
writes one incident of N events (benchmarks/review_incident.py), then, each round, times
(a) the floor: fetching those N messages from JetStream as a plain nats-py reader would, and
(b) the path: what `pathways review report INCIDENT --audience full --format html` does — the
timeline service's `pw.qry.review.report` handler (replay, metrics, report, rendered as HTML)
called in this process, its reply through JSON and the document read from it. The same request
through the running service is timed too (`over_nats`): a reply larger than one NATS message
travels in parts (services/core/reply_parts.py), and `parts` says how many it took.
Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from benchmarks.common import ROOT, ROSTER, say
from benchmarks.probes import load_average
from benchmarks.review_incident import write_incident
from benchmarks.stack import wait_attached
from benchmarks.stats import ms
from schemas import subjects
from schemas.commands import Reply
from schemas.report import Audience, GetReviewReport, ReportDocument, ReportFormat
from services.app import load_runtime, serve
from services.core import loop
from services.core.broker import connect
from services.core.embedded import EmbeddedNats, free_port
from services.core.eventstore import EventStore
from services.core.logging import configure_logging
from services.core.migrate import migrate
from services.core.record_keys import record_signer
from services.core.record_reader import verify_incident
from services.core.reply_parts import parts_needed
from services.core.rpc import call
from services.core.runtime import Runtime
from services.core.settings import LogFormat, Settings
from services.timeline.report import get_report
from tests.support import AUDITOR, caller, signing

TARGET_RATIO = 2.0
FETCH_BATCH = 1000


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.review", description=__doc__)
    parser.add_argument("--events", type=int, default=None, help="events in the incident (10000)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (5)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 events, 1 round")
    args = parser.parse_args(argv)
    args.events = args.events or (1000 if args.quick else 10_000)
    args.rounds = args.rounds or (1 if args.quick else 5)
    if min(args.events, args.rounds) < 1:
        parser.error("counts must be positive")
    return args


async def fetch_floor(nc: Client, incident_id: str, expected: int) -> int:
    """Every message of the incident, received as bytes: an ephemeral pull consumer without
    acks, fetched in large batches (bytes received are returned)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        subjects.incident_events(incident_id),
        stream=subjects.EVENTS_STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, mem_storage=True
        ),
    )
    received = size = 0
    try:
        while received < expected:
            batch = await sub.fetch(FETCH_BATCH, timeout=10)
            received += len(batch)
            size += sum(len(m.data) for m in batch)
    finally:
        await sub.unsubscribe()
    if received != expected:
        raise RuntimeError(f"fetched {received} messages, expected {expected}")
    return size


def rendered(reply: Reply) -> int:
    """What the command line does with the reply: read the document."""
    if not reply.ok:
        raise RuntimeError(f"report refused: {reply.error}")
    return len(ReportDocument.model_validate(reply.data).text)


def report_query(incident_id: str) -> GetReviewReport:
    return GetReviewReport(
        incident_id=incident_id, audience=Audience.FULL, format=ReportFormat.HTML
    )


async def path_in_process(rt: Runtime, incident_id: str) -> int:
    """The timeline service's handler called here, its reply through JSON as on the wire."""
    reply = await get_report(rt, report_query(incident_id), AUDITOR)
    return rendered(Reply.model_validate_json(reply.model_dump_json(exclude_none=True)))


async def path_over_nats(nc: Client, incident_id: str) -> int:
    """As `pathways review report`: the request to the running timeline service."""
    query = report_query(incident_id)
    return rendered(await call(nc, subjects.QRY_REVIEW_REPORT, query, caller(query), timeout=60))


async def reply_size(rt: Runtime, incident_id: str) -> int:
    reply = await get_report(rt, report_query(incident_id), AUDITOR)
    return len(reply.model_dump_json(exclude_none=True))


async def timed(work: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    started = time.perf_counter()
    found = await work()
    return (time.perf_counter() - started) * 1000, found


def figure(samples: list[float]) -> dict[str, Any]:
    return {
        "samples": len(samples),
        "median_ms": ms(statistics.median(samples)),
        "min_ms": ms(min(samples)),
        "max_ms": ms(max(samples)),
    }


async def over_nats(nc: Client, rt: Runtime, incident_id: str, rounds: int) -> dict[str, Any]:
    """The same through the running service, the reply in parts when one message cannot hold it."""
    size = await reply_size(rt, incident_id)
    found: dict[str, Any] = {
        "reply_bytes": size,
        "max_payload": nc.max_payload,
        "parts": parts_needed(size, nc.max_payload),
    }
    samples = [(await timed(lambda: path_over_nats(nc, incident_id)))[0] for _ in range(rounds)]
    return {**found, **figure(samples)}


async def measure(
    nc: Client, rt: Runtime, incident_id: str, count: int, rounds: int
) -> dict[str, Any]:
    floor: list[float] = []
    path: list[float] = []
    size = html = 0
    await fetch_floor(nc, incident_id, count)  # warm-up: caches, the first consumer
    await path_in_process(rt, incident_id)
    for number in range(1, rounds + 1):
        took, size = await timed(lambda: fetch_floor(nc, incident_id, count))
        floor.append(took)
        took, html = await timed(lambda: path_in_process(rt, incident_id))
        path.append(took)
        say(f"review: round {number}/{rounds}: floor {floor[-1]:.0f} ms, path {path[-1]:.0f} ms")
    ratio = statistics.median(path) / statistics.median(floor)
    return {
        "floor": {
            "definition": "fetch the incident's N messages from JetStream (ephemeral pull "
            f"consumer, no acks, batches of {FETCH_BATCH}), bytes only",
            **figure(floor),
            "bytes": size,
        },
        "path": {
            "definition": "the pw.qry.review.report handler (audience full: replay, metrics, "
            "report rendered as HTML) called in this process, its reply through JSON and the "
            "document read from it",
            **figure(path),
            "html_bytes": html,
        },
        "ratio_path_over_floor": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "pass": ratio <= TARGET_RATIO,
        "over_nats": await over_nats(nc, rt, incident_id, rounds),
    }


async def intact(nc: Client, rt: Runtime, incident_id: str) -> None:
    """The record as written passes `pathways timeline verify`: every event sealed and linked."""
    assert rt.sealer is not None
    verdict = await verify_incident(nc.jetstream(), incident_id, rt.sealer.verifier)
    if verdict.problem is not None or verdict.before_sealing:
        raise RuntimeError(f"the written record does not verify: {verdict}")


def settings_for(server: EmbeddedNats, port: int, workdir: Path) -> Settings:
    return Settings(
        nats_url=server.url,
        data_dir=workdir / "data",
        nats_port=port,
        playbooks_dir=ROOT / "playbooks",
        roster=ROSTER,
        log_format=LogFormat.JSON,
        log_level="warning",
        port=0,
    )


async def benchmark(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    port = free_port()
    server = EmbeddedNats(workdir / "nats", port)
    settings = settings_for(server, port, workdir)
    configure_logging(settings.log_format, settings.log_level)
    rt = load_runtime(settings)
    rt.verifier = signing()[0].verifier
    rt.sealer = record_signer(settings, create=True)  # as `pathways up` gets its record key
    say(f"review: starting nats-server on {server.url}")
    await server.start()
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    nc = await connect(server.url, name="pathways-bench-review")
    try:
        await migrate(nc.jetstream(), settings.stream_replicas)
        store = EventStore(nc, nc.jetstream(), sealer=rt.sealer)
        say(f"review: writing one incident of {args.events:,} events")
        started = time.perf_counter()
        incident_id = await write_incident(
            store, rt.library, rt.roster, workdir / "keys", args.events
        )
        write_s = time.perf_counter() - started
        await intact(nc, rt, incident_id)
        running = asyncio.create_task(serve(rt, ["timeline"], stop))
        await wait_attached(rt, running)
        say(f"review: written in {write_s:.1f} s; {args.rounds} rounds")
        measured = await measure(nc, rt, incident_id, args.events, args.rounds)
    finally:
        stop.set()
        if running is not None:
            await asyncio.gather(running, return_exceptions=True)
        await nc.close()
        await server.stop()
    return {
        "benchmark": "review",
        "config": {
            "events": args.events,
            "rounds": args.rounds,
            "quick": args.quick,
            "incident_id": incident_id,
            "write_seconds": round(write_s, 1),
            "record_verified": True,
            "machine_cpu_count": os.cpu_count() or 1,
        },
        "load_average_before": None,
        **measured,
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    os.environ["PATHWAYS_LOG_FORMAT"] = "json"
    os.environ["PATHWAYS_LOG_LEVEL"] = "warning"
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="pathways-bench-review-") as tmp:
        report = loop.run(benchmark(args, Path(tmp)))
    report["load_average_before"] = load_before
    report["load_average_after"] = load_average()
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
