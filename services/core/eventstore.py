"""The event stream as the source of truth.

A transition is one append. Its optimistic-concurrency check runs on the server: the append
names the last sequence it saw on the aggregate's subject filter, and a stale append is refused,
so two replicas can never both decide the same transition.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from schemas.base import Contract
from schemas.events import AnyEvent, Event
from schemas.evolution import UnreadableEvent, read_event, read_event_for_replay
from schemas.subjects import EVENTS_STREAM, TIMERS_STREAM
from services.core.assertions import Signer
from services.core.errors import Unprocessable
from services.core.readers import read_messages, stream_sequence
from services.core.record_seal import HEADER as SEAL_HEADER
from services.core.record_seal import Linked, Message, record_digest, seal

WRONG_LAST_SEQUENCE = 10071
DUPLICATE_IN_BATCH = 10201  # a message id in the batch was seen before: the batch is refused
# On a cluster, a message id whose first append is still being replicated is refused with this
# rather than deduplicated: another writer is appending the same event right now.
DUPLICATE_IN_PROCESS = 10158
CONFLICTS = (WRONG_LAST_SEQUENCE, DUPLICATE_IN_BATCH, DUPLICATE_IN_PROCESS)

EventT = TypeVar("EventT", bound=Event)


class ConcurrencyConflict(Exception):
    """The aggregate moved on since it was read: reload and decide again."""


class AlreadyAppended(ConcurrencyConflict):
    """The event is in the stream already (the server has seen its message id): a retry.
    Reloading finds it, so callers treat it like any other conflict and change nothing."""


@dataclass(frozen=True)
class Stored(Generic[EventT]):
    event: EventT
    seq: int
    subject: str


@dataclass(frozen=True)
class Unrecognised:
    """A stored event this version cannot read (a newer version wrote it): only what the stream
    itself says about it, and the type it claims. Never its body."""

    event_type: str | None
    seq: int
    subject: str
    at: datetime  # when the stream stored it


@dataclass(frozen=True)
class Expect:
    """Append only if the last event on `subject_filter` has sequence `last_seq` (0: none yet)."""

    subject_filter: str
    last_seq: int


class EventStore:
    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        stream: str = EVENTS_STREAM,
        sealer: Signer | None = None,
    ) -> None:
        self._nc = nc
        self._js = js
        self._stream = stream
        # Signs each append (services.core.record_seal); None: appends go unsealed.
        self._sealer = sealer

    def _headers(
        self, subject: str, event: Event, body: bytes, expect: Expect | None
    ) -> dict[str, str]:
        headers = {"Nats-Msg-Id": event.event_id}
        if expect is not None:
            headers["Nats-Expected-Last-Subject-Sequence"] = str(expect.last_seq)
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = expect.subject_filter
        if self._sealer is not None:
            linked = Linked(expect.subject_filter, expect.last_seq) if expect else Linked("", 0)
            headers[SEAL_HEADER] = seal(self._sealer, subject, event.event_id, body, linked)
        return headers

    async def append(self, subject: str, event: Event, expect: Expect | None = None) -> int:
        body = event.model_dump_json().encode()
        headers = self._headers(subject, event, body, expect)
        try:
            ack = await self._js.publish(subject, body, stream=self._stream, headers=headers)
        except APIError as exc:
            if exc.err_code in (WRONG_LAST_SEQUENCE, DUPLICATE_IN_PROCESS):
                raise ConcurrencyConflict(subject) from None
            raise
        if ack.duplicate:
            raise AlreadyAppended(subject)
        return ack.seq

    async def append_batch(self, items: list[tuple[str, Event, Expect]]) -> int:
        """Append every event or none (a JetStream atomic batch); returns the last sequence.
        Raises ConcurrencyConflict if any expectation fails: then nothing was appended."""
        if not items:
            return 0
        nc = self._nc
        batch_id = uuid.uuid4().hex
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox, max_msgs=1)
        try:
            for number, (subject, event, expect) in enumerate(items, 1):
                body = event.model_dump_json().encode()
                headers = self._headers(subject, event, body, expect)
                headers["Nats-Batch-Id"] = batch_id
                headers["Nats-Batch-Sequence"] = str(number)
                last = number == len(items)
                if last:
                    headers["Nats-Batch-Commit"] = "1"
                await nc.publish(subject, body, reply=inbox if last else "", headers=headers)
            reply = await sub.next_msg(timeout=5.0)
        finally:
            await sub.unsubscribe()
        ack = json.loads(reply.data)
        error = ack.get("error")
        if error:
            if error.get("err_code") in CONFLICTS:
                raise ConcurrencyConflict(items[0][0])
            raise RuntimeError(f"batch append failed: {error}")
        return int(ack["seq"])

    async def subjects(self, subject_filter: str, stream: str | None = None) -> set[str]:
        """The subjects holding at least one message under a filter, in one request (of the
        events stream unless another is named)."""
        info = await self._js.stream_info(stream or self._stream, subjects_filter=subject_filter)
        return set(info.state.subjects or {})

    async def schedule_every(self, subject: str, target: str, seconds: int) -> None:
        """A repeating schedule on the timers stream (publishing it again replaces it)."""
        headers = {"Nats-Schedule": f"@every {seconds}s", "Nats-Schedule-Target": target}
        await self._js.publish(subject, b"{}", stream=TIMERS_STREAM, headers=headers)

    async def schedule(self, subject: str, target: str, at: datetime, event: Contract) -> None:
        """Have the server publish `event` (an event, or another contract such as a pending
        send) to `target` at `at`, both in the timers stream. The schedule lives on the server,
        so it survives restarts of every service; one subject holds one schedule, and
        publishing to it again replaces it."""
        # No message id: the schedule subject is the identity (the server keeps one schedule per
        # subject, the latest), and a schedule restored within the dedup window must not be
        # dropped as a duplicate of the one it replaces.
        headers = {
            # Milliseconds: a deadline fires when it is due, not up to a second early.
            "Nats-Schedule": f"@at {at.astimezone(UTC).isoformat(timespec='milliseconds')[:-6]}Z",
            "Nats-Schedule-Target": target,
        }
        try:
            await self._js.publish(
                subject, event.model_dump_json().encode(), stream=TIMERS_STREAM, headers=headers
            )
        except APIError as exc:
            # Another writer has this very schedule in flight; if theirs fails, their
            # reaction is redelivered and schedules it again.
            if exc.err_code != DUPLICATE_IN_PROCESS:
                raise

    async def last(self, subject_filter: str) -> Stored[AnyEvent] | None:
        """The newest event on a subject filter, read straight from the stream."""
        try:
            msg = await self._js.get_msg(self._stream, subject=subject_filter, direct=True)
        except NotFoundError:
            return None
        assert msg.data is not None and msg.seq is not None and msg.subject is not None
        try:
            return Stored(read_event(msg.data), msg.seq, msg.subject)
        except UnreadableEvent as exc:
            # Deciding on top of a state this version cannot read could undo what a newer
            # version did: refuse, and let the message go to the dead letters.
            raise Unprocessable(f"{msg.subject} (seq {msg.seq}): {exc}") from None

    async def last_of(self, subject_filter: str, kind: type[EventT]) -> Stored[EventT] | None:
        found = await self.last(subject_filter)
        if found is None or not isinstance(found.event, kind):
            return None
        return Stored(found.event, found.seq, found.subject)

    async def read(self, subject_filter: str) -> list[Stored[AnyEvent]]:
        """Every event on a subject filter, in stream order; raises Unprocessable if one cannot
        be read (use `history` to see past it)."""
        found: list[Stored[AnyEvent]] = []
        for item in await self.history(subject_filter):
            if isinstance(item, Unrecognised):
                raise Unprocessable(f"{item.subject} (seq {item.seq}): cannot be read")
            found.append(item)
        return found

    async def history(self, subject_filter: str) -> list[Stored[AnyEvent] | Unrecognised]:
        """Every event on a subject filter, in stream order; one this version cannot read is
        there as Unrecognised, so it never hides the others."""
        return _history(await read_messages(self._js, self._stream, subject_filter))

    async def history_and_digest(
        self, subject_filter: str
    ) -> tuple[list[Stored[AnyEvent] | Unrecognised], str]:
        """The history as a replay reads it (each task snapshot with only its newest note:
        `read_event_for_replay`), and the digest of the messages it was read from
        (`record_digest`)."""
        messages = await read_messages(self._js, self._stream, subject_filter)
        stored = (Message(stream_sequence(m), m.subject, m.data, {}) for m in messages)
        return _history(messages, read_event_for_replay), record_digest(stored)


def _history(
    messages: list[Msg], reading: Callable[[bytes], AnyEvent] = read_event
) -> list[Stored[AnyEvent] | Unrecognised]:
    found: list[Stored[AnyEvent] | Unrecognised] = []
    for m in messages:
        seq = stream_sequence(m)
        try:
            found.append(Stored(reading(m.data), seq, m.subject))
        except UnreadableEvent as exc:
            stored_at = m.metadata.timestamp.astimezone(UTC)
            found.append(Unrecognised(exc.event_type, seq, m.subject, stored_at))
    return found
