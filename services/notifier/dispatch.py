"""Getting one notice to one person: each channel at its time, each send recorded once.

A channel due at once is tried in the handler of the event that called for the notice. One
with a delay (or a reminder held by quiet hours) waits in the timers stream as a NATS scheduled
message, one subject per notice and channel; so does the next try after a failure that may
pass, after the delay for that attempt (PATHWAYS_RETRY_DELAYS). Whatever fires later checks
that the task still needs it (services.notifier.policy.still_wanted).

Before sending, the stream is asked whether this notice's outcome on this channel is recorded:
a redelivered event, or a replay, sends nothing that went before. Only a crash between a send
and its record can send one message twice, and then it carries the same Message-ID or
webhook-id, so the receiver can tell.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from datetime import datetime, timedelta

from schemas import subjects
from schemas.base import utc_now
from schemas.notifications import Delivery, Notice, PendingSend, QuietHours
from services.core.logging import get_logger
from services.notifier.context import Notifier
from services.notifier.outcomes import outcome_of, record, recorded
from services.notifier.policy import next_try, timed
from services.notifier.render import RenderedMessage, render
from services.notifier.routes import ESCALATION_WEBHOOK_KEY, Route
from services.notifier.senders import send

log = get_logger(__name__)


async def all_of(work: Iterable[Awaitable[None]]) -> None:
    """Run every send to the end, even when one fails, then raise the first failure (the
    message is redelivered, and what was recorded is not sent again)."""
    results = await asyncio.gather(*work, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def send_notice(
    notifier: Notifier,
    notice: Notice,
    routes: list[Route],
    quiet_hours: QuietHours | None,
    at: datetime,
) -> None:
    """Try the routes due now, and schedule the others."""
    now, later = timed(notice, routes, quiet_hours, at)
    for waiting in later:
        await schedule(notifier, pending(notice, waiting.route, 1, at), waiting.at)
    rendered = render(notice)
    await all_of(deliver(notifier, notice, route, rendered, attempt=1, at=at) for route in now)


def pending(notice: Notice, route: Route, attempt: int, at: datetime) -> PendingSend:
    # A roster channel is looked up again when the send fires (it may have changed, and an
    # Apprise URL holds its token); only a target from an event travels with it.
    target = route.target if route.key == ESCALATION_WEBHOOK_KEY else None
    return PendingSend(notice=notice, channel_key=route.key, attempt=attempt, at=at, target=target)


async def schedule(notifier: Notifier, send: PendingSend, when: datetime) -> None:
    notice = send.notice
    await notifier.rt.store.schedule(
        subjects.notice_schedule(notice.incident_id, notice.notice_id, send.channel_key),
        subjects.notice_timer(notice.incident_id, notice.notice_id, send.channel_key),
        when,
        send,
    )


def unusable(notice: Notice, route: Route) -> Delivery:
    """A channel that could never be sent to fails at once, so that someone hears of it."""
    return Delivery(
        notice_id=notice.notice_id,
        channel=route.kind,
        target=route.kind.value,
        ok=False,
        error=route.problem or "the channel cannot be used",
        permanent=True,
    )


async def deliver(
    notifier: Notifier,
    notice: Notice,
    route: Route,
    rendered: RenderedMessage,
    *,
    attempt: int,
    at: datetime,
) -> None:
    """One try of one channel: send unless already recorded, then record what came of it, or
    schedule the next try."""
    store = notifier.rt.store
    if await recorded(store, notice, route.key):
        return
    if route.target is None:
        delivery = unusable(notice, route)
    else:
        delivery = await send(notifier, notice, rendered, route.target, at)
    context = {"task_id": notice.task_id, "kind": notice.kind.value, "channel": route.key}
    if not delivery.ok:
        delay = next_try(notifier.retry_delays, attempt, delivery.permanent)
        if delay is not None:
            log.warning("notice_retry_scheduled", attempt=attempt, retry_in=delay, **context)
            when = utc_now() + timedelta(seconds=delay)
            await schedule(notifier, pending(notice, route, attempt + 1, at), when)
            return
    outcome = outcome_of(notice, route.kind, route.key, delivery, attempt, utc_now())
    if await record(store, outcome) and not delivery.ok:
        # A warning, not an error: the service did its part, and the coordinators are told.
        log.warning("notice_failed", attempt=attempt, permanent=delivery.permanent, **context)
