"""Seals on the record: each event the services append is signed, and the signature links it to
the event it followed, so a reader holding only the public key can tell an intact record from
one with an event deleted, altered or inserted outside the services.

The seal (header `Pw-Seal`) is an Ed25519 signature, made with the installation's record key, over
the event's subject, its message id, the SHA-256 of its body and the append's expectation: the
subject filter and the stream sequence of the last event on it when it was written (every append
names one; 0 for "none yet"). The server refuses an append whose expectation does not hold, so in
an intact record each sealed expectation still holds when the events are read back in order.
Deleting an event breaks the expectation of the next one on its filter; inserting one (even a
copy of a sealed event) breaks the expectation of the next one, or carries no valid seal.

Each event's seal links it only to the one before it, so deleting an aggregate's last events
breaks no link. Periodic seals (`record.sealed`, services/engine/record_sealing.py) close that
gap: one pins the count, digest and sequences of the incident's events so far, and links to the
previous one; the check below names the first event a seal pinned that is gone. What came after
the latest periodic seal (the unpinned tail) is counted, not vouched for.

Pure: no I/O. Reading the stream is `services.core.record_reader`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from schemas.events import RecordSealed
from schemas.evolution import UnreadableEvent, read_event
from services.core.assertions import Signer, Verifier

HEADER = "Pw-Seal"
VERSION = "r1"
MSG_ID = "Nats-Msg-Id"


class Fault(StrEnum):
    DELETED = "deleted"
    ALTERED = "altered"
    INSERTED = "inserted"


@dataclass(frozen=True)
class Linked:
    """What an append expected: the last event on `subject_filter` had sequence `last_seq`."""

    subject_filter: str
    last_seq: int


@dataclass(frozen=True)
class Message:
    """One stored event as the stream returns it."""

    seq: int
    subject: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Problem:
    seq: int  # the stream sequence of the first bad event (a deleted one: where it was)
    subject: str
    fault: Fault
    detail: str

    def line(self) -> str:
        return f"{self.fault.value}: event seq {self.seq} ({self.subject}): {self.detail}"


@dataclass(frozen=True)
class Verdict:
    events: int
    before_sealing: int  # unsealed events written before the first sealed one
    digest: str  # SHA-256 over every event read, in order (what a report was built from)
    problem: Problem | None
    latest_seal: int | None = None  # the stream sequence of the latest periodic seal
    unpinned: int = 0  # events after it (all of them when there is none): vouched for by no seal

    @property
    def intact(self) -> bool:
        return self.problem is None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signed(subject: str, msg_id: str, body: bytes, linked: Linked) -> bytes:
    parts = (VERSION, subject, msg_id, linked.subject_filter, str(linked.last_seq))
    return "\n".join(parts).encode() + b"\n" + hashlib.sha256(body).digest()


def seal(signer: Signer, subject: str, msg_id: str, body: bytes, linked: Linked) -> str:
    """The `Pw-Seal` header value for an append: `r1;<last seq>;<filter>;<signature>`."""
    signature = signer.key.sign(_signed(subject, msg_id, body, linked))
    return f"{VERSION};{linked.last_seq};{linked.subject_filter};{_b64(signature)}"


def subject_matches(subject: str, subject_filter: str) -> bool:
    """NATS subject matching: `*` is one token, a final `>` one or more."""
    tokens, wanted = subject.split("."), subject_filter.split(".")
    for index, want in enumerate(wanted):
        if want == ">":
            return len(tokens) > index
        if index >= len(tokens) or (want != "*" and want != tokens[index]):
            return False
    return len(tokens) == len(wanted)


def _parsed(header: str) -> tuple[Linked, bytes] | None:
    parts = header.split(";")
    if len(parts) != 4 or parts[0] != VERSION or not parts[1].isdigit():
        return None
    try:
        return Linked(parts[2], int(parts[1])), _unb64(parts[3])
    except (binascii.Error, ValueError):
        return None


def _filters_of(subject: str) -> list[str]:
    """The filters an append names that match `subject`: the subject itself and each of its
    prefixes with `>` (`pw.evt.I.task.K.>` …). Others (with `*`) are looked up the slow way."""
    tokens = subject.split(".")
    return [subject, *(".".join(tokens[:end]) + ".>" for end in range(1, len(tokens)))]


class _Walk:
    """The record read in order, with the last event seen under each filter, for the links."""

    def __init__(self, verifier: Verifier, seqs: set[int]) -> None:
        self.verifier = verifier
        self.seqs = seqs
        self.seen: list[Message] = []
        self.last_under: dict[str, int] = {}
        self.sealed_yet = False
        self.before_sealing = 0
        self.latest_seal: int | None = None

    def add(self, message: Message) -> None:
        self.seen.append(message)
        for subject_filter in _filters_of(message.subject):
            self.last_under[subject_filter] = message.seq

    def check(self, message: Message) -> Problem | None:
        header = message.headers.get(HEADER)
        if header is None:
            if self.sealed_yet:
                return _problem(message, Fault.INSERTED, "it carries no seal")
            self.before_sealing += 1
            return None
        self.sealed_yet = True
        parsed = _parsed(header)
        if parsed is None:
            return _problem(message, Fault.INSERTED, "its seal is malformed")
        linked, signature = parsed
        msg_id = message.headers.get(MSG_ID, "")
        signed = _signed(message.subject, msg_id, message.body, linked)
        if not self.verifier.made(signature, signed):
            why = "its seal does not match its subject, id and body (or another key made it)"
            return _problem(message, Fault.ALTERED, why)
        return self._link(message, linked) or self._pinned(message)

    def _pinned(self, message: Message) -> Problem | None:
        """A periodic seal (its body is signed, so what it pins is the services' word): every
        event it pinned must still be there, and nothing else before it."""
        pins = periodic_seal(message)
        if pins is None:
            return None
        self.latest_seal = message.seq
        held = [m for m in self.seen if m.seq <= pins.through_seq]
        present = {m.seq for m in held}
        missing = [seq for seq in pins.seqs if seq not in present]
        counted = f"{pins.events} events sealed at seq {message.seq}, {len(held)} found"
        if missing or len(held) < pins.events:
            # A pinned sequence names the event; a shortfall with none missing can only be
            # before the previous seal, whose own check would have named it: blame this seal.
            where = missing[0] if missing else message.seq
            incident = ".".join(message.subject.split(".")[:3]) + ".>"
            return Problem(where, incident, Fault.DELETED, counted)
        if len(held) > pins.events:
            return _problem(message, Fault.INSERTED, counted)
        if record_digest(held) != pins.digest:
            return _problem(message, Fault.ALTERED, "the events it pinned differ from the record")
        return None

    def _link(self, message: Message, linked: Linked) -> Problem | None:
        """Every event before this one passed, so when the link fails this one is to blame,
        unless the event it names is gone."""
        if not linked.subject_filter or self._last_seq(linked.subject_filter) == linked.last_seq:
            return None  # an append that expected nothing is linked to nothing
        if linked.last_seq and linked.last_seq not in self.seqs:
            detail = f"seq {message.seq} was written after it, on {linked.subject_filter}"
            return Problem(linked.last_seq, linked.subject_filter, Fault.DELETED, detail)
        expected = f"seq {linked.last_seq}" if linked.last_seq else "no event"
        detail = f"when the services wrote it, {linked.subject_filter} ended at {expected}"
        return _problem(message, Fault.INSERTED, detail)

    def _last_seq(self, subject_filter: str) -> int:
        if "*" not in subject_filter:
            return self.last_under.get(subject_filter, 0)
        for earlier in reversed(self.seen):
            if subject_matches(earlier.subject, subject_filter):
                return earlier.seq
        return 0


def _problem(message: Message, fault: Fault, detail: str) -> Problem:
    return Problem(message.seq, message.subject, fault, detail)


def record_digest(messages: Iterable[Message]) -> str:
    """SHA-256 over every event's sequence, subject and body digest, in order."""
    running = hashlib.sha256()
    for message in messages:
        running.update(f"{message.seq}\n{message.subject}\n".encode())
        running.update(hashlib.sha256(message.body).digest())
    return running.hexdigest()


def is_periodic_seal(subject: str) -> bool:
    """`pw.evt.<incident>.record.sealed` (schemas.subjects.record_sealed)."""
    tokens = subject.split(".")
    return len(tokens) == 5 and tokens[:2] == ["pw", "evt"] and tokens[3:] == ["record", "sealed"]


def periodic_seal(message: Message) -> RecordSealed | None:
    """What a periodic seal pins; None for any other event (or a seal a newer version wrote in
    a shape this one cannot read: it vouches for nothing here)."""
    if not is_periodic_seal(message.subject):
        return None
    try:
        event = read_event(message.body)
    except UnreadableEvent:
        return None
    return event if isinstance(event, RecordSealed) else None


def verify(messages: Sequence[Message], verifier: Verifier) -> Verdict:
    """Check an incident's events, read in stream order; the first bad one is the problem."""
    walk = _Walk(verifier, {m.seq for m in messages})
    problem = None
    for message in messages:
        problem = walk.check(message)
        if problem is not None:
            break
        walk.add(message)
    latest = walk.latest_seal
    unpinned = sum(1 for m in messages if latest is None or m.seq > latest)
    digest = record_digest(messages)
    return Verdict(len(messages), walk.before_sealing, digest, problem, latest, unpinned)
