"""Reading an incident's record as stored, headers and all, and verifying its seals."""

from __future__ import annotations

from nats.js import JetStreamContext

from schemas import subjects
from services.core.assertions import Verifier
from services.core.readers import read_messages
from services.core.record_seal import Message, Verdict, verify


async def stored_record(js: JetStreamContext, incident_id: str) -> list[Message]:
    """Every message on the incident's subjects, in stream order, as the stream holds it."""
    found = await read_messages(js, subjects.EVENTS_STREAM, subjects.incident_events(incident_id))
    return [
        Message(m.metadata.sequence.stream, m.subject, m.data, dict(m.headers or {})) for m in found
    ]


async def verify_incident(js: JetStreamContext, incident_id: str, verifier: Verifier) -> Verdict:
    return verify(await stored_record(js, incident_id), verifier)
