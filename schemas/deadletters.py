"""Dead letters: reactions that failed every delivery, or can never succeed, kept for an
operator to list and replay.

Each dead letter has a subject of its own, `pw.dlq.letter.<consumer>.<id>`; the last record on
it is the dead letter's state (dead, or resolved by a replay). A replay is requested on
`pw.dlq.retry.<consumer>.<id>`, which the failing consumer's own retry consumer reads.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, TypeAdapter

from schemas.base import Contract, UtcDateTime

DeadLetterId = Annotated[str, StringConstraints(pattern=r"^DL-[0-9A-Z]{8}$")]
ConsumerName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]

ERROR_LIMIT = 500
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def dead_letter_id_for(consumer: str, stream: str, stream_seq: int) -> str:
    """One id per failed message and consumer, so dead-lettering it again lands on the same
    dead letter."""
    digest = hashlib.sha256(f"{consumer}\0{stream}\0{stream_seq}".encode()).digest()
    value = int.from_bytes(digest[:5], "big")
    return "DL-" + "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(35, -1, -5))


class DeadLetter(Contract):
    """A message `consumer` could not handle: where it is, how often it was tried, and why it
    failed. Never the body: the original stays in its stream, found by `stream_seq`."""

    status: Literal["dead"] = "dead"
    id: DeadLetterId
    consumer: ConsumerName
    stream: str
    stream_seq: int = Field(ge=1)
    subject: str
    deliveries: int = Field(ge=0, description="Deliveries to the consumer, replays included")
    replays: int = Field(default=0, ge=0, description="Operator replays that failed too")
    error_type: str
    error: str = Field(max_length=ERROR_LIMIT)
    at: UtcDateTime


class DeadLetterResolved(Contract):
    """A replay succeeded: the dead letter is settled and no longer listed."""

    status: Literal["resolved"] = "resolved"
    id: DeadLetterId
    consumer: ConsumerName
    stream: str
    stream_seq: int = Field(ge=1)
    subject: str
    at: UtcDateTime


class ReplayRequested(Contract):
    """An operator asks the consumer that failed a message to run it again. `letter_seq` is
    the dead-letter record being replayed: a request for an older record is stale and ignored,
    so asking twice replays once."""

    id: DeadLetterId
    letter_seq: int = Field(ge=1)
    requested_by: str = Field(min_length=1, max_length=64)
    at: UtcDateTime


LetterRecord = Annotated[DeadLetter | DeadLetterResolved, Field(discriminator="status")]
LETTER_RECORD: TypeAdapter[DeadLetter | DeadLetterResolved] = TypeAdapter(LetterRecord)


def describe_error(error_type: str, message: str) -> str:
    """The error as stored: its type and message, cut to fit."""
    text = f"{error_type}: {message}" if message else error_type
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"
