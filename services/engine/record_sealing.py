"""Periodic seals: some quiet time after an incident's last event, one engine replica appends a
`record.sealed` pinning the incident's record so far (services.core.record_pins).

Every event puts the incident's pending seal off: its schedule, held by the server, is replaced
with one due `record_seal_quiet_seconds` later. When it fires, one replica reads the record and
appends the seal, expecting the previous seal to be the last on the incident's record subject;
a replica that loses that race (or repeats a seal already written) changes nothing. The
schedule outlives a crashed engine, and the timer is redelivered to whichever starts next.
"""

from __future__ import annotations

import json
from datetime import timedelta

from nats.js import JetStreamContext
from pydantic import ValidationError

from schemas import subjects
from schemas.base import utc_now
from schemas.events import RecordSealDue, RecordSealed
from services.core.eventstore import ConcurrencyConflict, EventStore, Expect
from services.core.failpoints import failpoint
from services.core.logging import get_logger
from services.core.record_pins import next_seal
from services.core.record_reader import stored_record
from services.core.runtime import Runtime

log = get_logger(__name__)

# Crash tests: the engine dies once the seal is due, before it is written.
SEAL_DUE = "record.seal-due"


def incident_to_seal(body: bytes) -> str | None:
    """The incident an event belongs to, read leniently (a type this version does not know
    still puts its incident's seal off); None for a seal itself, or a body with no incident."""
    try:
        raw = json.loads(body)
        due = RecordSealDue.model_validate({"incident_id": raw.get("incident_id")})
    except (ValueError, AttributeError, ValidationError):
        return None
    return None if raw.get("type") == RecordSealed.model_fields["type"].default else due.incident_id


async def on_event(rt: Runtime, body: bytes, seq: int) -> None:
    """Any event of an incident: its periodic seal is due a quiet time from now."""
    incident_id = incident_to_seal(body)
    if incident_id is None or rt.sealer is None:
        return  # without the record key a seal could vouch for nothing
    at = utc_now() + timedelta(seconds=rt.settings.record_seal_quiet_seconds)
    due = RecordSealDue(incident_id=incident_id)
    await rt.store.schedule(
        subjects.seal_schedule(incident_id), subjects.seal_timer(incident_id), at, due
    )


async def on_seal_due(rt: Runtime, body: bytes, seq: int) -> None:
    incident_id = RecordSealDue.model_validate_json(body).incident_id
    failpoint(rt.settings, SEAL_DUE)
    if rt.sealer is not None:
        await seal_incident(rt.store, rt.js, incident_id)


async def seal_incident(
    store: EventStore, js: JetStreamContext, incident_id: str
) -> RecordSealed | None:
    """Append the incident's next periodic seal; the seal written, or None when there was
    nothing new to pin or another replica wrote it first."""
    seal = next_seal(incident_id, await stored_record(js, incident_id), utc_now())
    if seal is None:
        return None
    expect = Expect(subjects.record_seals(incident_id), seal.previous_seal_seq)
    try:
        await store.append(subjects.record_sealed(incident_id), seal, expect)
    except ConcurrencyConflict:
        # Another replica sealed first (or this very seal was written before a crash).
        log.info("record_seal_superseded", incident_id=incident_id)
        return None
    log.info("record_sealed", incident_id=incident_id, events=seal.events)
    return seal
