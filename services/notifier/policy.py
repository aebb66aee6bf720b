"""When each of a notice's channels is tried, whether a send that waited is still wanted, and
when a failed send is tried again: pure decisions, the senders' I/O kept elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.enums import TaskStatus
from schemas.notifications import Notice, NoticeKind, QuietHours
from schemas.tasks import TaskSnapshot
from services.notifier.planning import plan
from services.notifier.routes import Route

DONE = frozenset({TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.SKIPPED})
NOT_ACKNOWLEDGED = frozenset({TaskStatus.ASSIGNED, TaskStatus.UNASSIGNED})
# Kinds that ask the recipient to take the task on: moot once they have acknowledged it, or
# once it is someone else's.
_TAKE_IT_ON = frozenset({NoticeKind.ASSIGNED, NoticeKind.ESCALATED_TO_YOU})


@dataclass(frozen=True)
class Later:
    route: Route
    at: datetime  # UTC


def timed(
    notice: Notice, routes: Sequence[Route], quiet_hours: QuietHours | None, at: datetime
) -> tuple[list[Route], list[Later]]:
    """Which routes to try as soon as the notice is made at `at` (when its event happened), and
    which wait: those with a delay, and reminders held by quiet hours. Planning from the event's
    time rather than the clock means a redelivered event plans the same sends. A route that
    cannot be used is tried at once, so that its failure is recorded."""
    usable = [route for route in routes if route.target is not None]
    by_target = {id(route.target): route for route in usable}
    planned = plan(notice, [route.target for route in usable if route.target], quiet_hours, at)
    now = [route for route in routes if route.target is None]
    later: list[Later] = []
    for send in planned:
        route = by_target[id(send.target)]
        if send.not_before <= at:
            now.append(route)
        else:
            later.append(Later(route, send.not_before))
    return now, later


def still_wanted(notice: Notice, task: TaskSnapshot | None) -> bool:
    """Whether a send that waited (a delayed channel, another try) should still go: an
    assignment only while the recipient has the task and has not acknowledged it; an overdue
    acknowledgement only while nobody has acknowledged; anything else while the task is open."""
    if task is None or task.status in DONE:
        return False
    if notice.kind in _TAKE_IT_ON:
        return task.status is TaskStatus.ASSIGNED and task.assignee == notice.recipient_id
    if notice.kind is NoticeKind.ACKNOWLEDGE_OVERDUE:
        return task.status in NOT_ACKNOWLEDGED
    return True


def next_try(delays: Sequence[float], attempt: int, permanent: bool) -> float | None:
    """Seconds until the next try after try number `attempt` (from 1) failed; None when no try
    is left or none could help. One first try, then one after each delay."""
    if permanent or attempt > len(delays):
        return None
    return delays[attempt - 1]


def max_attempts(delays: Sequence[float]) -> int:
    return len(delays) + 1
