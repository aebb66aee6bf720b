"""Reading the key-value projections that back list queries.

A projection is a cache of the stream, so a record that cannot be read — garbage bytes, a key
deleted by hand — must never fail a list: it is logged (by key only) and left out, and a task's
record is read from the stream instead, which has the truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from nats.js import JetStreamContext
from pydantic import BaseModel, ValidationError

from schemas.base import TASK_ID_PATTERN, split_task_id
from schemas.subjects import task_filter
from schemas.tasks import TaskSnapshot
from schemas.views import TaskRecord
from services.core.errors import Unprocessable
from services.core.eventstore import EventStore
from services.core.logging import get_logger
from services.core.readers import read_messages

log = get_logger(__name__)

# Deleted and purged keys leave an empty marker carrying this header.
_OPERATION = "KV-Operation"

RecordT = TypeVar("RecordT", bound=BaseModel)
_TASK_ID = re.compile(TASK_ID_PATTERN)


@dataclass(frozen=True)
class Entry:
    """A key's latest message in a bucket: its value is None when the key was deleted."""

    key: str
    value: bytes | None
    revision: int


async def entries(js: JetStreamContext, bucket: str, key_filter: str = ">") -> list[Entry]:
    """Every key matching the filter with its latest value, deleted keys included, in one pass
    over the bucket's stream (a key-value watcher would do the same, but leave its consumer
    behind on the server)."""
    prefix = f"$KV.{bucket}."
    messages = await read_messages(
        js, f"KV_{bucket}", f"{prefix}{key_filter}", last_per_subject=True
    )
    return [
        Entry(
            key=m.subject.removeprefix(prefix),
            value=None if (m.headers or {}).get(_OPERATION) else m.data,
            revision=m.metadata.sequence.stream,
        )
        for m in messages
    ]


async def values(js: JetStreamContext, bucket: str, key_filter: str = ">") -> list[bytes]:
    """The current value of every key matching the filter."""
    return [e.value for e in await entries(js, bucket, key_filter) if e.value]


def readable(model: type[RecordT], value: bytes | None) -> RecordT | None:
    """The record, or None when there is none or it cannot be read. Fields a newer version
    added are ignored."""
    if not value:
        return None
    try:
        return model.model_validate_json(value, extra="ignore")
    except ValidationError:
        return None


def parse_records(
    model: type[RecordT], found: list[Entry], bucket: str
) -> tuple[list[RecordT], list[Entry]]:
    """The records that can be read, and the entries that cannot (deleted or unreadable):
    those are logged with their key only, never their content."""
    records: list[RecordT] = []
    damaged: list[Entry] = []
    for entry in found:
        record = readable(model, entry.value)
        if record is None:
            log.warning("projection_record_unreadable", bucket=bucket, key=entry.key,
                        deleted=entry.value is None)  # fmt: skip
            damaged.append(entry)
        else:
            records.append(record)
    return records, damaged


async def tasks_from_stream(store: EventStore, damaged: list[Entry]) -> list[TaskRecord]:
    """The records of damaged task keys, read from the stream (a task's last event carries the
    whole task). Read-only: the projector, the only writer of the buckets, puts a record back on
    the task's next event, and `pathways admin rebuild` puts them all back."""
    restored: list[TaskRecord] = []
    for entry in damaged:
        if not _TASK_ID.match(entry.key):
            continue  # a key no version of the projector writes: nothing in the stream names it
        try:
            found = await store.last(task_filter(*split_task_id(entry.key)))
        except Unprocessable:  # the stream's last event is unreadable too
            log.warning("projection_record_unrestorable", key=entry.key)
            continue
        task = getattr(found.event, "task", None) if found is not None else None
        if found is not None and isinstance(task, TaskSnapshot):
            restored.append(TaskRecord(seq=found.seq, task=task))
    return restored
