"""What the notifier does when events happen and when its pending sends come due. Each handler
loads what it needs, asks the pure modules what to send, and hands that to dispatch."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from schemas.events import (
    NoticeFailed,
    TaskAssigned,
    TaskCreated,
    TaskEscalated,
    TaskEvent,
    TaskReleased,
    TaskReminded,
)
from schemas.notifications import Notice, PendingSend
from services.core.errors import Unprocessable
from services.core.failpoints import failpoint
from services.core.logging import get_logger
from services.core.reactors import read_as
from services.notifier.context import IncidentFacts, Notifier
from services.notifier.dispatch import all_of, deliver, send_notice
from services.notifier.notices import delivery_failed_notices, escalation_webhook, notices_for
from services.notifier.policy import still_wanted
from services.notifier.render import render
from services.notifier.routes import Route, escalation_route, routes_of, scaled

log = get_logger(__name__)

TASK_EVENTS = "notifier"
NOTICE_FAILED = "notifier-on-notice-failed"
TIMERS = "notifier-on-timer"
# The events that may tell someone something; the consumer sees every task event.
NOTIFYING = (TaskCreated, TaskReleased, TaskAssigned, TaskReminded, TaskEscalated)
# Where the crash tests stop a notifier: as it takes up an event that calls for notices.
RECEIVED = "notifier.received"


async def to_person(
    notifier: Notifier, notice: Notice, at: datetime, incident: IncidentFacts
) -> None:
    member = notifier.rt.roster.member(notice.recipient_id)
    if member is None:  # never: notices are only made for roster members
        return
    routes = scaled(routes_of(member, email=notifier.email_enabled), incident.time_scale)
    await send_notice(notifier, notice, routes, member.quiet_hours, at)


async def on_task_event(notifier: Notifier, body: bytes, seq: int) -> None:
    event = read_as(TaskEvent, body, TASK_EVENTS, seq)
    if not isinstance(event, NOTIFYING):
        return
    rt = notifier.rt
    incident = await notifier.incident(event.incident_id)
    kind = incident.incident_type
    notices = notices_for(event, rt.roster, notifier.settings, incident_type=kind)
    work = [to_person(notifier, notice, event.at, incident) for notice in notices]
    if isinstance(event, TaskEscalated):
        webhook = escalation_webhook(event, rt.roster, notifier.settings, incident_type=kind)
        if webhook is not None:
            route = escalation_route(event.webhook_url)
            work.append(send_notice(notifier, webhook, [route], None, event.at))
    if work:
        failpoint(rt.settings, RECEIVED)
        await all_of(work)


async def on_notice_failed(notifier: Notifier, body: bytes, seq: int) -> None:
    """Tell the coordinators of the task's role that someone could not be reached."""
    failed = read_as(NoticeFailed, body, NOTICE_FAILED, seq)
    task = await notifier.task(failed.task_id)
    if task is None:
        return
    incident = await notifier.incident(failed.incident_id)
    notices = delivery_failed_notices(
        failed, task, notifier.rt.roster, notifier.settings, incident_type=incident.incident_type
    )
    await all_of(to_person(notifier, notice, failed.at, incident) for notice in notices)


async def on_timer(notifier: Notifier, body: bytes, seq: int) -> None:
    """A delayed channel or another try came due: send it if the task still needs it."""
    try:
        waiting = PendingSend.model_validate_json(body, extra="ignore")
    except ValidationError:
        raise Unprocessable(f"seq {seq}: not a pending send") from None
    notice = waiting.notice
    task = await notifier.task(notice.task_id)
    if not still_wanted(notice, task):
        log.info("notice_no_longer_needed", task_id=notice.task_id, kind=notice.kind.value,
                 channel=waiting.channel_key)  # fmt: skip
        return
    route = route_of(notifier, waiting)
    if route is None:
        # The roster no longer lists the channel (or the person): they are not to be reached
        # there any more, which is no failure.
        log.info("notice_channel_gone", task_id=notice.task_id, channel=waiting.channel_key)
        return
    await deliver(notifier, notice, route, render(notice), attempt=waiting.attempt, at=waiting.at)


def route_of(notifier: Notifier, waiting: PendingSend) -> Route | None:
    """The channel a pending send is for: the one it carries, or the recipient's as the roster
    has it now."""
    if waiting.target is not None:
        return Route(waiting.channel_key, waiting.target.kind, waiting.target)
    member = notifier.rt.roster.member(waiting.notice.recipient_id)
    routes = routes_of(member, email=notifier.email_enabled) if member else []
    return next((route for route in routes if route.key == waiting.channel_key), None)
