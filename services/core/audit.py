"""Appending to the audit stream (PATHWAYS_AUDIT): who signed in, or tried to."""

from __future__ import annotations

from nats.js import JetStreamContext

from schemas.accounts import SignInRecorded
from schemas.subjects import AUDIT_STREAM, sign_in_audit


async def record_sign_in(js: JetStreamContext, event: SignInRecorded) -> int:
    """Append one sign-in attempt on pw.audit.signin.<outcome>; its stream sequence."""
    subject = sign_in_audit(event.outcome.value)
    ack = await js.publish(subject, event.model_dump_json().encode(), stream=AUDIT_STREAM)
    return ack.seq
