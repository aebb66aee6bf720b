"""Which notices an event calls for, and what each says, as pure functions.

A notice is built only from the task's snapshot, the incident's type and the roster: never from
notes, incident attributes or the people involved in an incident (`Notice` has no field for
them). A restricted task's notice does not even carry its title: whatever is downstream of it —
templates, the inbox, a webhook receiver, the timers stream — cannot show what it never had.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from schemas.enums import TaskStatus, Tier
from schemas.events import (
    AnyEvent,
    NoticeFailed,
    TaskAssigned,
    TaskCreated,
    TaskEscalated,
    TaskReleased,
    TaskReminded,
)
from schemas.notifications import Notice, NoticeKind
from schemas.roster import Member, Roster
from schemas.tasks import TaskSnapshot
from services.notifier.settings import NotifierSettings

# What a restricted task is called in its notices, its inbox entries and its webhook payloads.
RESTRICTED_TITLE = "Confidential task"
# The recipient an escalation chain's webhook step is recorded under (no roster member).
ESCALATION_WEBHOOK = "escalation-webhook"
ESCALATION_WEBHOOK_NAME = "Escalation webhook"
# A notice id stays short enough that `<notice id>.<channel key>.<outcome>` is an event id.
_NOTICE_ID_MAX = 160
_NOT_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")


def notice_id_for(event_id: str, recipient: str) -> str:
    """The id of the notice an event sends one person: the same event and person always give
    the same id (a redelivered event finds its notice already sent), different ones never do.
    Usually `<event id>.<recipient>`; an id that is too long or holds other characters is cut
    and given a digest of the whole."""
    whole = f"{event_id}.{recipient}"
    cleaned = _NOT_ID_CHARACTERS.sub("-", whole).lstrip("._-")
    if cleaned == whole and len(whole) <= _NOTICE_ID_MAX:
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:16]
    return f"{cleaned[: _NOTICE_ID_MAX - 17].rstrip('.')}.{digest}".lstrip(".")


def coordinators_of(roster: Roster, role: str) -> tuple[str, ...]:
    """Who is told when someone could not be reached about a task of `role`: the coordinators
    the roster names for the role (those still active), else command staff — the same people a
    `notify_coordinator` escalation step tells."""
    return roster.coordinators_of(role)


def task_link(settings: NotifierSettings, task_id: str) -> str | None:
    if settings.public_url is None:
        return None
    return f"{str(settings.public_url).rstrip('/')}/tasks/{task_id}"


def _about(task: TaskSnapshot, settings: NotifierSettings, incident_type: str) -> dict[str, Any]:
    """What any notice may say of its task: a restricted one keeps even its title back."""
    restricted = task.tier is Tier.RESTRICTED
    return {
        "task_id": task.task_id,
        "task_title": RESTRICTED_TITLE if restricted else task.title,
        "incident_id": task.incident_id,
        "incident_type": incident_type,
        "acknowledge_by": task.acknowledge_by,
        "due_by": task.due_by,
        "restricted": restricted,
        "link": task_link(settings, task.task_id),
        "exercise": task.exercise,
    }


# A task its assignee can still act on, through a link as anywhere else.
OPEN = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS})


def link_assignment(task: TaskSnapshot, member: Member, roster: Roster) -> int | None:
    """The assignment a partner's action link is for: only in a notice to a partner about a
    task they hold and can act on. Staff sign in; nobody else gets a credential for it."""
    if member.id != task.assignee or task.status not in OPEN or task.assignment < 1:
        return None
    return task.assignment if roster.is_partner(member) else None


def notice(
    task: TaskSnapshot,
    kind: NoticeKind,
    member: Member,
    *,
    roster: Roster,
    settings: NotifierSettings,
    incident_type: str,
    event_id: str,
    urgent: bool = False,
    missed_by: str | None = None,
    step: int | None = None,
) -> Notice:
    restricted = task.tier is Tier.RESTRICTED
    return Notice(
        notice_id=notice_id_for(event_id, member.id),
        kind=kind,
        recipient_id=member.id,
        recipient_name=member.name,
        language=member.preferred_language,
        time_zone=roster.time_zone_of(member),
        **_about(task, settings, incident_type),
        urgent=urgent,
        link_assignment=link_assignment(task, member, roster),
        missed_by=None if restricted else missed_by,
        step=step,
    )


def _members(roster: Roster, people: Iterable[str | None]) -> list[Member]:
    """The roster members among `people`, each once, in order; someone no longer on the roster
    cannot be reached and is left out."""
    found: dict[str, Member] = {}
    for person in people:
        member = roster.member(person) if person else None
        if member is not None:
            found.setdefault(member.id, member)
    return list(found.values())


def _is_assignment(event: AnyEvent) -> bool:
    if not isinstance(event, TaskCreated | TaskReleased | TaskAssigned):
        return False
    task = event.task
    if task.status is not TaskStatus.ASSIGNED or task.assignee is None:
        return False
    # Someone who claimed a task took it themselves: there is nothing to tell them.
    return not (isinstance(event, TaskAssigned) and event.actor == task.assignee)


def notices_for(
    event: AnyEvent, roster: Roster, settings: NotifierSettings, *, incident_type: str
) -> list[Notice]:
    """The notices to people that a task event calls for (an escalation's webhook step is
    `escalation_webhook`'s); none for any other event."""
    if _is_assignment(event):
        assert isinstance(event, TaskCreated | TaskReleased | TaskAssigned)
        return _to(event.task, NoticeKind.ASSIGNED, [event.task.assignee], event.event_id,
                   roster, settings, incident_type)  # fmt: skip
    if isinstance(event, TaskReminded):
        task = event.task.model_copy(update={"due_by": event.due_by})
        return _to(task, NoticeKind.REMINDER, [task.assignee], event.event_id, roster, settings,
                   incident_type)  # fmt: skip
    if isinstance(event, TaskEscalated):
        return _escalation_notices(event, roster, settings, incident_type)
    return []


def _to(
    task: TaskSnapshot,
    kind: NoticeKind,
    people: Iterable[str | None],
    event_id: str,
    roster: Roster,
    settings: NotifierSettings,
    incident_type: str,
    *,
    urgent: bool = False,
    missed_by: str | None = None,
    step: int | None = None,
) -> list[Notice]:
    return [
        notice(task, kind, member, roster=roster, settings=settings, incident_type=incident_type,
               event_id=event_id, urgent=urgent, missed_by=missed_by, step=step)
        for member in _members(roster, people)
    ]  # fmt: skip


def _escalation_notices(
    event: TaskEscalated, roster: Roster, settings: NotifierSettings, incident_type: str
) -> list[Notice]:
    task = event.task
    missed_by = event.missed_by
    match event.action:
        case "reassign":
            kind, people = NoticeKind.ESCALATED_TO_YOU, [task.assignee]
        case "remind" if event.deadline == "acknowledge":
            kind, people = NoticeKind.ACKNOWLEDGE_OVERDUE, list(event.notify)
        case "remind":
            kind, people = NoticeKind.REMINDER, list(event.notify)
        case "notify_coordinator" | "notify_command":
            kind, people = NoticeKind.ESCALATION, list(event.notify)
            missed_by = missed_by or task.assignee
        case _:
            return []
    # A missed deadline is news now, quiet hours or not.
    return _to(task, kind, people, event.event_id, roster, settings, incident_type,
               urgent=True, missed_by=missed_by, step=event.step)  # fmt: skip


def escalation_webhook(
    event: TaskEscalated, roster: Roster, settings: NotifierSettings, *, incident_type: str
) -> Notice | None:
    """The notice an escalation chain's webhook step posts: an `escalation`, addressed to the
    webhook itself rather than a person."""
    if event.action != "webhook":
        return None
    task = event.task
    restricted = task.tier is Tier.RESTRICTED
    return Notice(
        notice_id=notice_id_for(event.event_id, ESCALATION_WEBHOOK),
        kind=NoticeKind.ESCALATION,
        recipient_id=ESCALATION_WEBHOOK,
        recipient_name=ESCALATION_WEBHOOK_NAME,
        time_zone=roster.time_zone,
        **_about(task, settings, incident_type),
        urgent=True,
        missed_by=None if restricted else (event.missed_by or task.assignee),
        step=event.step,
    )


def delivery_failed_notices(
    failed: NoticeFailed,
    task: TaskSnapshot,
    roster: Roster,
    settings: NotifierSettings,
    *,
    incident_type: str,
) -> list[Notice]:
    """Tell the coordinators of the task's role that a notice could not be delivered. A notice
    of this kind that itself fails is recorded and goes no further: failures never cascade."""
    if failed.kind is NoticeKind.DELIVERY_FAILED:
        return []
    who = None if failed.recipient == ESCALATION_WEBHOOK else failed.recipient
    return _to(task, NoticeKind.DELIVERY_FAILED, coordinators_of(roster, task.role),
               failed.event_id, roster, settings, incident_type, urgent=True,
               missed_by=who)  # fmt: skip
