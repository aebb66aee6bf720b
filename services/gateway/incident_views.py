"""What the board and the incident page show about incidents and their tasks, worked out from
the replies of the queries (pure: no I/O, the time passed in): progress, what needs attention,
deadlines in words, and tasks grouped by phase then role."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.enums import IncidentStatus, TaskStatus
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentSummary

OPEN = frozenset(
    {
        TaskStatus.WAITING,
        TaskStatus.UNASSIGNED,
        TaskStatus.ASSIGNED,
        TaskStatus.ACKNOWLEDGED,
        TaskStatus.IN_PROGRESS,
    }
)
STATUS_WORDS = {
    TaskStatus.WAITING: "Waiting",
    TaskStatus.UNASSIGNED: "Unassigned",
    TaskStatus.ASSIGNED: "Assigned",
    TaskStatus.ACKNOWLEDGED: "Acknowledged",
    TaskStatus.IN_PROGRESS: "In progress",
    TaskStatus.COMPLETED: "Completed",
    TaskStatus.SKIPPED: "Skipped",
    TaskStatus.CANCELLED: "Cancelled",
}
INCIDENT_WORDS = {
    IncidentStatus.ACTIVE: "Open",
    IncidentStatus.RESPONSE_COMPLETE: "Response complete",
    IncidentStatus.CLOSED: "Closed",
}


@dataclass(frozen=True)
class Attention:
    """Per incident: progress and what needs command attention."""

    done: int = 0
    total: int = 0
    overdue: int = 0
    unassigned: int = 0
    escalated: int = 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.overdue or self.unassigned or self.escalated)


def is_overdue(task: TaskSnapshot, now: datetime) -> bool:
    """Open past its due time, or handed to someone who has not acknowledged it in time."""
    if task.status not in OPEN:
        return False
    if task.due_by is not None and task.due_by < now:
        return True
    late_ack = task.acknowledge_by is not None and task.acknowledge_by < now
    return task.status is TaskStatus.ASSIGNED and late_ack


def escalation_level(task: TaskSnapshot) -> int:
    """How many reminder and escalation steps have run on the task."""
    return len(task.escalated)


def attention(tasks: Iterable[TaskSnapshot], now: datetime) -> Attention:
    """Progress counts completed tasks out of those that apply (skipped ones do not)."""
    counted = [t for t in tasks if t.status is not TaskStatus.SKIPPED]
    opened = [t for t in counted if t.status in OPEN]
    return Attention(
        done=sum(t.status is TaskStatus.COMPLETED for t in counted),
        total=len(counted),
        overdue=sum(is_overdue(t, now) for t in opened),
        unassigned=sum(t.status is TaskStatus.UNASSIGNED for t in opened),
        escalated=sum(escalation_level(t) > 0 for t in opened),
    )


def span(delta: timedelta) -> str:
    """A duration in words a responder reads at a glance: 45 s, 25 min, 3 h 10 min, 2 d 4 h."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def age(incident: IncidentSummary, now: datetime) -> str:
    return f"{span(now - incident.logged_at)} ago"


def deadline(task: TaskSnapshot, now: datetime) -> str:
    """The deadline that matters now, relative and in UTC; empty when none does."""
    if task.status not in OPEN:
        return ""
    if task.status is TaskStatus.ASSIGNED and task.acknowledge_by is not None:
        return _relative("acknowledge", task.acknowledge_by, now)
    if task.due_by is not None:
        return _relative("due", task.due_by, now)
    return "starts when its prerequisites complete" if task.status is TaskStatus.WAITING else ""


def _relative(what: str, moment: datetime, now: datetime) -> str:
    if moment < now:
        return f"overdue by {span(now - moment)} ({what} by {utc(moment)})"
    return f"{what} in {span(moment - now)} ({utc(moment)})"


@dataclass(frozen=True)
class RoleGroup:
    role: str
    title: str
    tasks: tuple[TaskSnapshot, ...]


@dataclass(frozen=True)
class PhaseGroup:
    phase: str | None
    title: str
    roles: tuple[RoleGroup, ...]


def by_phase_and_role(
    tasks: Sequence[TaskSnapshot],
    phase_titles: Sequence[tuple[str, str]],
    role_titles: dict[str, str],
) -> list[PhaseGroup]:
    """Tasks grouped by phase (in the playbook's order, then any other in order of appearance,
    tasks without a phase last) and, within a phase, by role in order of appearance."""
    order = [phase for phase, _ in phase_titles]
    titles = dict(phase_titles)
    for task in tasks:
        if task.phase is not None and task.phase not in order:
            order.append(task.phase)
    groups = []
    for phase in [*order, None]:
        mine = [t for t in tasks if t.phase == phase]
        if not mine:
            continue
        roles = list(dict.fromkeys(t.role for t in mine))
        title = titles.get(phase, _words(phase)) if phase else "Other tasks"
        groups.append(
            PhaseGroup(
                phase=phase,
                title=title,
                roles=tuple(
                    RoleGroup(
                        r, role_titles.get(r, _words(r)), tuple(t for t in mine if t.role == r)
                    )
                    for r in roles
                ),
            )
        )
    return groups


def _words(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").capitalize()
