"""What came of a send, as events: `notice.sent` or `notice.failed`, at most one per notice and
channel. Each is appended expecting nothing yet on its subject filter, so a second outcome for
the same notice and channel — a redelivery, another replica, a retry that raced — is refused by
the server, however long after the first."""

from __future__ import annotations

import contextlib
from datetime import datetime

from schemas import subjects
from schemas.events import NoticeFailed, NoticeSent
from schemas.notifications import Channel, Delivery, Notice
from services.core.eventstore import ConcurrencyConflict, EventStore, Expect

ACTOR = "notifier"
ERROR_MAX = 500


def outcome_of(
    notice: Notice,
    channel: Channel,
    channel_key: str,
    delivery: Delivery,
    attempt: int,
    now: datetime,
) -> NoticeSent | NoticeFailed:
    fields = {
        "incident_id": notice.incident_id,
        "actor": ACTOR,
        "at": now,
        "notice_id": notice.notice_id,
        "kind": notice.kind,
        "recipient": notice.recipient_id,
        "task_id": notice.task_id,
        "channel": channel,
        "channel_key": channel_key,
        "target": delivery.target[:500],
        "attempt": attempt,
        "restricted": notice.restricted,
    }
    if delivery.ok:
        return NoticeSent(event_id=f"{notice.notice_id}.{channel_key}.sent", **fields)
    return NoticeFailed(
        event_id=f"{notice.notice_id}.{channel_key}.failed",
        error=(delivery.error or "failed")[:ERROR_MAX],
        permanent=delivery.permanent,
        **fields,
    )


async def recorded(store: EventStore, notice: Notice, channel_key: str) -> bool:
    """Whether this notice's outcome on this channel is in the stream already."""
    found = await store.last(
        subjects.notice_outcomes(notice.incident_id, notice.notice_id, channel_key)
    )
    return found is not None


async def record(store: EventStore, outcome: NoticeSent | NoticeFailed) -> bool:
    """Append the outcome; False when one was there already (then nothing is appended)."""
    verb = "sent" if isinstance(outcome, NoticeSent) else "failed"
    subject = subjects.notice_outcome(
        outcome.incident_id, outcome.notice_id, outcome.channel_key, verb
    )
    expect = Expect(
        subjects.notice_outcomes(outcome.incident_id, outcome.notice_id, outcome.channel_key), 0
    )
    with contextlib.suppress(ConcurrencyConflict):
        await store.append(subject, outcome, expect)
        return True
    return False
