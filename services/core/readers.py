"""Reading a slice of a stream once: an ephemeral consumer, drained, then deleted."""

from __future__ import annotations

import contextlib

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

# If this process dies mid-read, the server removes the reader on its own after this long.
READER_IDLE_SECONDS = 10.0
FETCH_SIZE = 256


def stream_sequence(message: Msg) -> int:
    """The message's sequence in its stream, taken from its reply subject without building the
    rest of its metadata (a time and two pairs of counters), which costs more than the rest of
    what a replay does with most messages: `$JS.ACK.<stream>.<consumer>.<delivered>.<stream
    seq>.…` (9 tokens), or with a domain and an account hash after `ACK` (11 or more)."""
    tokens = (message.reply or "").split(".")
    if tokens[:2] == ["$JS", "ACK"]:
        if len(tokens) == 9:
            return int(tokens[5])
        if len(tokens) >= 11:
            return int(tokens[Msg.Ack.StreamSeq])
    return message.metadata.sequence.stream  # not a JetStream message: nats-py says so


def _last_per_subject(messages: list[Msg]) -> list[Msg]:
    """A subject updated during the read is delivered twice; keep its newest message."""
    newest: dict[str, Msg] = {}
    for message in messages:
        newest[message.subject] = message
    return list(newest.values())


async def read_messages(
    js: JetStreamContext,
    stream: str,
    subject_filter: str,
    *,
    last_per_subject: bool = False,
    timeout: float = 5.0,
) -> list[Msg]:
    """Every message on the filter in stream order (or only each subject's last one)."""
    sub = await js.pull_subscribe(
        subject_filter,
        stream=stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT
            if last_per_subject
            else DeliverPolicy.ALL,
            inactive_threshold=READER_IDLE_SECONDS,
            mem_storage=True,
        ),
    )
    info = await sub.consumer_info()
    try:
        found: list[Msg] = []
        pending = info.num_pending or 0
        # Count on what each message says is left, not on the count at the start: writes
        # landing during the read can replace (and so remove) messages not delivered yet, and
        # the replacement comes later in the stream. But a writer that never stops would keep
        # `pending` above zero for ever, so the read also ends at a horizon: the stream's last
        # message once the consumer exists, then — once that is reached — its last message at
        # that moment. Anything replaced before the consumer reached it was replaced by then.
        horizon = await _last_sequence(js, stream)
        extended = False
        while pending > 0:
            batch = await sub.fetch(FETCH_SIZE, timeout=timeout)
            found.extend(batch)
            if not batch:
                break
            reached = batch[-1].metadata.sequence.stream
            pending = batch[-1].metadata.num_pending
            if reached >= horizon:
                if extended:
                    break
                horizon, extended = await _last_sequence(js, stream), True
                if reached >= horizon:
                    break
        return _last_per_subject(found) if last_per_subject else found
    finally:
        await sub.unsubscribe()
        # Unsubscribing leaves the consumer on the server until it times out; remove it now.
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(stream, info.name)


async def _last_sequence(js: JetStreamContext, stream: str) -> int:
    return (await js.stream_info(stream)).state.last_seq
