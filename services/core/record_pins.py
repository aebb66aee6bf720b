"""What the next periodic seal of an incident pins (schemas.events.RecordSealed). Pure: the
engine reads the record and appends (services/engine/record_sealing.py); the check of what a
seal pinned is part of `services.core.record_seal.verify`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from schemas.events import RecordSealed
from services.core.record_seal import Message, is_periodic_seal, periodic_seal, record_digest

ACTOR = "engine"


def previous_seal(messages: Sequence[Message]) -> tuple[int, int]:
    """The stream sequence of the incident's latest periodic seal, and of the last event it
    pinned (an event may land between a seal's read and its append); (0, 0) when none."""
    for message in reversed(messages):
        if is_periodic_seal(message.subject):
            pins = periodic_seal(message)
            return message.seq, pins.through_seq if pins is not None else message.seq
    return 0, 0


def next_seal(incident_id: str, messages: Sequence[Message], at: datetime) -> RecordSealed | None:
    """The seal pinning the incident's record as read (`messages`, in stream order), or None
    when there is nothing new to pin: no event, or a seal is the last one already."""
    if not messages or is_periodic_seal(messages[-1].subject):
        return None
    previous, pinned_through = previous_seal(messages)
    last = messages[-1].seq
    return RecordSealed(
        # From what it pins: two replicas sealing the same record write the same id, and the
        # server keeps one.
        event_id=f"{incident_id}.record.{last}",
        incident_id=incident_id,
        actor=ACTOR,
        at=at,
        through_seq=last,
        events=len(messages),
        digest=record_digest(messages),
        previous_seal_seq=previous,
        seqs=tuple(m.seq for m in messages if m.seq > pinned_through),
    )
