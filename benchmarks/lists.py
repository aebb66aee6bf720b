"""List queries at scale: `python -m benchmarks.run --lists` (`make bench ARGS=--lists`).

Stores 10,000 incidents and 170,000 tasks in the read model (written straight into the buckets,
see lists_seed.py), then times `incident list`, `task list --assignee X`, `task list --incident
Y` and the unfiltered first page as request round trips against the running services, next to
a floor measured in the same run: a bare request-reply round trip to a responder that answers
at once, and a single key-value get. Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from nats.aio.client import Client
from nats.aio.msg import Msg

from benchmarks.common import ROSTER, say
from benchmarks.lists_seed import Seeded, seed
from benchmarks.probes import load_average
from benchmarks.stack import running_stack
from benchmarks.stats import distribution, ms
from schemas import subjects
from schemas.commands import ListIncidents, ListQuery, ListTasks
from schemas.enums import TaskStatus
from schemas.replies import RawPage as Page
from services.core import indexes, listing, loop
from services.core.broker import connect
from services.core.projections import values
from services.core.rpc import call
from tests.support import caller

ECHO_SUBJECT = "bench.lists.echo"
TARGET_P50_MS = 100.0


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run --lists", description=__doc__)
    parser.add_argument("--lists", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--tasks-per-incident", type=int, default=17)
    parser.add_argument("--samples", type=int, default=200, help="requests per figure (200)")
    parser.add_argument(
        "--no-full-read", action="store_true", help="skip timing the old whole-bucket read"
    )
    return parser.parse_args(argv)


async def timed(samples: int, once: Callable[[int], Awaitable[Any]]) -> list[float]:
    found: list[float] = []
    for n in range(samples):
        started = time.perf_counter()
        await once(n)
        found.append((time.perf_counter() - started) * 1000)
    return found


async def floors(nc: Client, samples: int, task_id: str) -> dict[str, list[float]]:
    async def echo(msg: Msg) -> None:
        await msg.respond(b"ok")

    sub = await nc.subscribe(ECHO_SUBJECT, cb=echo)
    kv = await nc.jetstream().key_value(subjects.TASKS_BUCKET)
    try:
        request = await timed(samples, lambda _: nc.request(ECHO_SUBJECT, b"", timeout=5))
        get = await timed(samples, lambda _: kv.get(task_id))
    finally:
        await sub.unsubscribe()
    return {"request_reply": request, "kv_get": get}


async def page(nc: Client, subject: str, query: ListQuery) -> Page:
    reply = await call(nc, subject, query, caller(query), timeout=30)
    if not reply.ok:
        raise RuntimeError(f"{subject} refused: {reply.error}")
    return Page.model_validate(reply.data)


def queries(
    seeded: Seeded, deep: dict[str, str | None]
) -> dict[str, tuple[str, Callable[[int], ListQuery]]]:
    """Each figure: the subject and a query for the nth sample (varying person and incident)."""
    incidents, people = seeded.incidents, seeded.people
    return {
        "incident_list": (subjects.QRY_INCIDENT_LIST, lambda n: ListIncidents()),
        "incident_list_deep_page": (
            subjects.QRY_INCIDENT_LIST,
            lambda n: ListIncidents(cursor=deep["incidents"]),
        ),
        "task_list_assignee": (
            subjects.QRY_TASK_LIST,
            lambda n: ListTasks(assignee=people[n % len(people)]),
        ),
        "task_list_assignee_deep_page": (
            subjects.QRY_TASK_LIST,
            lambda n: ListTasks(assignee=people[0], cursor=deep["assignee"]),
        ),
        "task_list_assignee_status": (
            subjects.QRY_TASK_LIST,
            lambda n: ListTasks(assignee=people[n % len(people)], status=TaskStatus.IN_PROGRESS),
        ),
        "task_list_incident": (
            subjects.QRY_TASK_LIST,
            lambda n: ListTasks(incident_id=incidents[(n * 7919) % len(incidents)]),
        ),
        "task_list_all_first_page": (subjects.QRY_TASK_LIST, lambda n: ListTasks()),
    }


async def deep_cursors(nc: Client, seeded: Seeded) -> dict[str, str | None]:
    """Cursors about halfway down the incident list and one person's task list."""
    found: dict[str, str | None] = {}
    for name, subject, query in (
        ("incidents", subjects.QRY_INCIDENT_LIST, ListIncidents(limit=500)),
        ("assignee", subjects.QRY_TASK_LIST, ListTasks(assignee=seeded.people[0], limit=500)),
    ):
        current = await page(nc, subject, query)
        half = (current.remaining + len(current.items)) // 2
        while current.next_cursor and current.remaining > half:
            query = query.model_copy(update={"cursor": current.next_cursor})
            current = await page(nc, subject, query)
        found[name] = current.next_cursor
    return found


async def full_reads(nc: Client, person: str) -> dict[str, float]:
    """What the lists cost before the index: read the whole bucket, then filter and sort."""
    js = nc.jetstream()
    started = time.perf_counter()
    await values(js, subjects.INCIDENTS_BUCKET)
    incidents_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    await values(js, subjects.TASKS_BUCKET)
    tasks_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    await listing.keys(nc, subjects.INDEX_BUCKET, indexes.assignee_prefix(person) + ">")
    keys_ms = (time.perf_counter() - started) * 1000
    return {
        "whole_incidents_bucket_ms": ms(incidents_ms),
        "whole_tasks_bucket_ms": ms(tasks_ms),
        "one_assignee_index_keys_ms": ms(keys_ms),
    }


def people() -> list[str]:
    return [m["id"] for m in yaml.safe_load(ROSTER.read_text())["members"]]


def figure(samples: list[float], floor_p50: float, sizes: list[int]) -> dict[str, Any]:
    found = distribution(samples)
    found["p50_over_floor"] = round(found["p50_ms"] / floor_p50, 1)
    found["p90_over_floor"] = round(found["p90_ms"] / floor_p50, 1)
    found["reply_bytes_max"] = max(sizes)
    found["target_p50_ms"] = TARGET_P50_MS
    found["pass"] = found["p50_ms"] <= TARGET_P50_MS
    return found


async def measure_one(
    nc: Client, name: str, subject: str, query_for: Callable[[int], ListQuery], samples: int
) -> tuple[list[float], list[int]]:
    """Round trips of one query as the CLI sends it (reply read, not parsed into models)."""
    sizes: list[int] = []

    async def once(n: int) -> None:
        msg = await nc.request(subject, query_for(n).model_dump_json().encode(), timeout=30)
        sizes.append(len(msg.data))
        if b'"ok":true' not in msg.data[:40]:
            raise RuntimeError(f"{name} refused: {msg.data[:200]!r}")

    return await timed(samples, once), sizes


async def measure_queries(
    nc: Client, seeded: Seeded, samples: int, floor_p50: float
) -> dict[str, Any]:
    deep = await deep_cursors(nc, seeded)
    results: dict[str, Any] = {}
    for name, (subject, query_for) in queries(seeded, deep).items():
        say(f"lists: {name}, {samples} requests")
        found, sizes = await measure_one(nc, name, subject, query_for, samples)
        results[name] = figure(found, floor_p50, sizes)
    return results


async def benchmark(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    load_before = load_average()
    async with running_stack(workdir) as stack:
        nc = await connect(stack.rt.settings.nats_url, name="pathways-bench-lists")
        try:
            say(f"lists: storing {args.incidents:,} incidents x {args.tasks_per_incident} tasks")
            started = time.perf_counter()
            seeded = await seed(nc, args.incidents, args.tasks_per_incident, people())
            seed_s = time.perf_counter() - started
            say(f"lists: stored in {seed_s:.1f} s; measuring the floor")
            floor = await floors(nc, args.samples, f"{seeded.incidents[0]}.task-00")
            floor_p50 = distribution(floor["request_reply"])["p50_ms"]
            measured = await stack.guarded(measure_queries(nc, seeded, args.samples, floor_p50))
            full = {} if args.no_full_read else await full_reads(nc, seeded.people[0])
        finally:
            await nc.close()
    return {
        "benchmark": "lists",
        "config": {
            "incidents": args.incidents,
            "tasks": seeded.tasks,
            "people": len(seeded.people),
            "tasks_per_person": seeded.tasks // len(seeded.people),
            "samples": args.samples,
            "page_limit": 50,
            "seed_seconds": round(seed_s, 1),
        },
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "floor": {name: distribution(v) for name, v in floor.items()},
        "queries": measured,
        "without_index": full,
        "all_pass": all(f["pass"] for f in measured.values()),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    os.environ["PATHWAYS_LOG_FORMAT"] = "json"
    os.environ["PATHWAYS_LOG_LEVEL"] = "warning"
    with tempfile.TemporaryDirectory(prefix="pathways-bench-lists-") as tmp:
        report = loop.run(benchmark(args, Path(tmp)))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
