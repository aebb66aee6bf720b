"""Filling the read model for the list benchmark: incident summaries, task records and their
index keys written straight into the buckets with JetStream atomic batches (the keys come from
services.core.indexes, exactly as the projector spells them)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from nats.aio.client import Client

from benchmarks.common import ROLES, say
from schemas import subjects
from schemas.base import incident_id_for, task_id_for
from schemas.enums import Severity, TaskStatus, Tier
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentSummary, TaskRecord
from services.core import indexes

BATCH = 500  # messages in one atomic batch
IN_FLIGHT = 4  # batches committing at once
NEWEST = datetime(2026, 11, 1, tzinfo=UTC)
INSTRUCTIONS = "Call the family liaison desk first; confirm the address and language. " * 6
STATUSES = (TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS)
Item = tuple[str, bytes]  # (subject, body)

BUCKET_STREAMS = (subjects.TASKS_BUCKET, subjects.INCIDENTS_BUCKET, subjects.INDEX_BUCKET)


@dataclasses.dataclass(frozen=True)
class Seeded:
    incidents: list[str]  # newest first
    people: list[str]
    tasks: int


def _kv(bucket: str, key: str) -> str:
    return f"$KV.{bucket}.{key}"


async def allow_batches(nc: Client) -> None:
    """The bucket streams take atomic batches here (only here: services write key by key)."""
    js = nc.jetstream()
    for bucket in BUCKET_STREAMS:
        info = await js.stream_info(f"KV_{bucket}")
        await js.update_stream(dataclasses.replace(info.config, allow_atomic=True))


async def _commit(nc: Client, items: list[Item]) -> None:
    batch_id = uuid.uuid4().hex[:16]
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox, max_msgs=1)
    try:
        for number, (subject, body) in enumerate(items, 1):
            headers = {"Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(number)}
            last = number == len(items)
            if last:
                headers["Nats-Batch-Commit"] = "1"
            await nc.publish(subject, body, reply=inbox if last else "", headers=headers)
        ack = json.loads((await sub.next_msg(timeout=30)).data)
    finally:
        await sub.unsubscribe()
    if "error" in ack:
        raise RuntimeError(f"seeding batch refused: {ack['error']}")


def _task(incident_id: str, n: int, person: str, logged: datetime, rng: random.Random) -> bytes:
    task = TaskSnapshot(
        task_id=task_id_for(incident_id, f"task-{n:02d}"),
        incident_id=incident_id,
        key=f"task-{n:02d}",
        title=f"Bench task {n}",
        role=ROLES[n % len(ROLES)],
        instructions=INSTRUCTIONS,
        tier=Tier.COMMAND,
        required=True,
        status=rng.choice(STATUSES),
        assignee=person,
        acknowledge_by=logged + timedelta(hours=n),
        due_by=logged + timedelta(days=1, hours=n),
    )
    return TaskRecord(seq=n + 1, task=task).model_dump_json().encode()


def _incident(incident_id: str, logged: datetime) -> bytes:
    summary = IncidentSummary(
        incident_id=incident_id,
        incident_type="officer-involved-shooting",
        title="Bench incident",
        severity=Severity.HIGH,
        attributes={"district": "north", "family_language": "es"},
        logged_at=logged,
        logged_by="renee.alvarez",
        task_count=17,
    )
    return summary.model_dump_json().encode()


def records(
    incidents: int, per_incident: int, people: list[str], counts: Counter[str]
) -> Iterator[tuple[str, Item]]:
    """(bucket, item) for every record and index key, an incident at a time; `counts` gathers
    how many keys each index partition holds."""
    rng = random.Random(7)
    for i in range(incidents):
        incident_id = incident_id_for(f"bench-lists-{i:08d}")
        logged = NEWEST - timedelta(minutes=97 * i)
        rank = indexes.newest_first(logged)
        yield (
            subjects.INCIDENTS_BUCKET,
            (
                _kv(subjects.INCIDENTS_BUCKET, incident_id),
                _incident(incident_id, logged),
            ),
        )
        key = indexes.incident_key(incident_id, logged)
        counts[indexes.counter(indexes.incidents_prefix(), indexes.part_of(rank))] += 1
        yield subjects.INDEX_BUCKET, (_kv(subjects.INDEX_BUCKET, key), b"")
        for n in range(per_incident):
            person = people[(i * per_incident + n) % len(people)]
            task_id = task_id_for(incident_id, f"task-{n:02d}")
            body = _task(incident_id, n, person, logged, rng)
            yield subjects.TASKS_BUCKET, (_kv(subjects.TASKS_BUCKET, task_id), body)
            index_key = indexes.assignee_key(person, rank, task_id)
            counts[indexes.counter(indexes.assignee_prefix(person), indexes.part_of(rank))] += 1
            yield subjects.INDEX_BUCKET, (_kv(subjects.INDEX_BUCKET, index_key), b"")


async def seed(nc: Client, incidents: int, per_incident: int, people: list[str]) -> Seeded:
    await allow_batches(nc)
    pending: dict[str, list[Item]] = {bucket: [] for bucket in BUCKET_STREAMS}
    running: list[asyncio.Task[None]] = []
    written = 0
    counts: Counter[str] = Counter()
    for bucket, item in records(incidents, per_incident, people, counts):
        pending[bucket].append(item)
        if len(pending[bucket]) == BATCH:
            running.append(asyncio.create_task(_commit(nc, pending[bucket])))
            pending[bucket] = []
            written += BATCH
            if len(running) >= IN_FLIGHT:
                await asyncio.gather(*running)
                running = []
            if written % 50_000 == 0:
                say(f"lists: {written:,} records and keys written")
    running += [asyncio.create_task(_commit(nc, items)) for items in pending.values() if items]
    await asyncio.gather(*running)
    counters = [(_kv(subjects.INDEX_BUCKET, k), str(n).encode()) for k, n in counts.items()]
    for start in range(0, len(counters), BATCH):
        await _commit(nc, counters[start : start + BATCH])
    ids = [incident_id_for(f"bench-lists-{i:08d}") for i in range(incidents)]
    return Seeded(ids, people, incidents * per_incident)
