"""Response metrics, pure: per task, per group, per incident and across incidents.

Interface:
- `fold_task`, `fold_plan`, `records_of` (services/core/metrics_fold.py) fold events into
  `TaskMetricsRecord`s and a `FollowUpPlan` (schemas/metrics.py), order-free and idempotent.
- `measure(record, now) -> TaskMetrics`: a task's figures as of `now`.
- `task_metrics(events, now) -> tuple[TaskMetrics, ...]`: every task of an incident's events.
- `summarise(tasks) -> MetricsSummary`: one group's figures.
- `follow_up_counts(tasks, plans, now) -> FollowUpCounts`.
- `aggregate(records, plans, now, families) -> MetricsAggregates`: per role, family, phase,
  overall, follow-ups, and how many incidents and tasks were counted.
- `incident_metrics(events, now, families) -> IncidentMetrics`; `families_in(roster)` gives
  `families` (role -> its families).

Definitions. Time to assign counts from the task's creation to its first assignment; to
acknowledge, from the first assignment to the first acknowledgement; to complete, from creation.
A window is met when the task was acknowledged (completed) by the deadline of the assignment
that did it, missed when late or still open past the current deadline, and undecided (None)
otherwise: no window, still open within it, skipped or cancelled. Completing a task that was
never acknowledged acknowledges it. Escalation steps are `task.escalated` events (reminders are
counted apart); reassignments are the hand-overs after the first. Medians and p90 are
nearest-rank: the value at rank ceil(p/100 * n) of the n sorted values. A role with several
families counts in each; a role the roster does not know counts in none.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.enums import TaskStatus, Tier
from schemas.events import AnyEvent
from schemas.metrics import (
    FollowUpCounts,
    FollowUpPlan,
    MetricsAggregates,
    MetricsSummary,
    TaskMetricsRecord,
)
from schemas.roster import Roster
from services.core.metrics_fold import records_of

Families = Callable[[str], Iterable[str]]
NO_PHASE = "(no phase)"
OPEN = frozenset(
    {
        TaskStatus.WAITING,
        TaskStatus.UNASSIGNED,
        TaskStatus.ASSIGNED,
        TaskStatus.ACKNOWLEDGED,
        TaskStatus.IN_PROGRESS,
    }
)
AWAITING_ACKNOWLEDGEMENT = frozenset({TaskStatus.UNASSIGNED, TaskStatus.ASSIGNED})


@dataclass(frozen=True)
class TaskMetrics:
    task_id: str
    incident_id: str
    key: str
    title: str
    role: str
    phase: str | None
    tier: Tier
    required: bool
    exercise: bool
    follow_up_of: str | None
    status: TaskStatus
    skipped_reason: str | None
    created_at: datetime
    first_assigned_at: datetime | None
    acknowledged_at: datetime | None
    completed_at: datetime | None
    due_by: datetime | None  # the deadline completion is measured against
    ack_window: timedelta | None
    due_window: timedelta | None
    ack_met: bool | None
    due_met: bool | None
    escalation_steps: int
    reminders: int
    declines: int
    reassignments: int

    @property
    def time_to_assign(self) -> timedelta | None:
        return _between(self.created_at, self.first_assigned_at)

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        return _between(self.first_assigned_at, self.acknowledged_at)

    @property
    def time_to_complete(self) -> timedelta | None:
        return _between(self.created_at, self.completed_at)


def _between(start: datetime | None, end: datetime | None) -> timedelta | None:
    return None if start is None or end is None else end - start


def _met(done_at: datetime | None, deadline: datetime | None) -> bool | None:
    return None if done_at is None or deadline is None else done_at <= deadline


def _missed(deadline: datetime | None, until: datetime) -> bool | None:
    """False (missed) when the deadline passed before `until`, else undecided."""
    return False if deadline is not None and until > deadline else None


def _ack_met(record: TaskMetricsRecord, now: datetime) -> bool | None:
    if record.acknowledged_at is not None:
        return _met(record.acknowledged_at, record.acknowledge_by_then)
    if record.completed_at is not None:
        return _met(record.completed_at, record.acknowledge_by)
    if record.status in AWAITING_ACKNOWLEDGEMENT:
        return _missed(record.acknowledge_by, now)
    if record.status is TaskStatus.CANCELLED and record.cancelled_at is not None:
        return _missed(record.acknowledge_by, record.cancelled_at)
    return None


def _due_met(record: TaskMetricsRecord, now: datetime) -> bool | None:
    if record.completed_at is not None:
        return _met(record.completed_at, record.due_by_then)
    if record.status in OPEN:
        return _missed(record.due_by, now)
    if record.status is TaskStatus.CANCELLED and record.cancelled_at is not None:
        return _missed(record.due_by, record.cancelled_at)
    return None


def measure(record: TaskMetricsRecord, now: datetime) -> TaskMetrics:
    """The task's figures as of `now` (which decides only windows still open)."""
    acknowledged = record.acknowledged_at is not None
    completed = record.completed_at is not None
    return TaskMetrics(
        task_id=record.task_id,
        incident_id=record.incident_id,
        key=record.key,
        title=record.title,
        role=record.role,
        phase=record.phase,
        tier=record.tier,
        required=record.required,
        exercise=record.exercise,
        follow_up_of=record.follow_up_of,
        status=record.status,
        skipped_reason=record.skipped_reason,
        created_at=record.created_at,
        first_assigned_at=record.first_assigned_at,
        acknowledged_at=record.acknowledged_at or record.completed_at,
        completed_at=record.completed_at,
        due_by=record.due_by_then if completed else record.due_by,
        ack_window=record.acknowledge_window_then if acknowledged else record.acknowledge_window,
        due_window=record.due_window_then if completed else record.due_window,
        ack_met=_ack_met(record, now),
        due_met=_due_met(record, now),
        escalation_steps=len(record.escalations),
        reminders=len(record.reminders),
        declines=len(record.declines),
        reassignments=max(record.assignments - 1, 0),
    )


def nearest_rank(values: Sequence[timedelta], percent: float) -> timedelta | None:
    """The nearest-rank percentile: the value at rank ceil(percent/100 * n), None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(percent / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def _present(values: Iterable[timedelta | None]) -> list[timedelta]:
    return [v for v in values if v is not None]


def summarise(tasks: Iterable[TaskMetrics]) -> MetricsSummary:
    group = list(tasks)
    assign = _present(t.time_to_assign for t in group)
    acknowledge = _present(t.time_to_acknowledge for t in group)
    complete = _present(t.time_to_complete for t in group)
    decided = [m for t in group for m in (t.ack_met, t.due_met) if m is not None]
    return MetricsSummary(
        tasks=len(group),
        median_assign=nearest_rank(assign, 50),
        median_acknowledge=nearest_rank(acknowledge, 50),
        p90_acknowledge=nearest_rank(acknowledge, 90),
        median_acknowledge_window=nearest_rank(_present(t.ack_window for t in group), 50),
        median_complete=nearest_rank(complete, 50),
        p90_complete=nearest_rank(complete, 90),
        windows=len(decided),
        windows_met=sum(decided),
        escalations=sum(t.escalation_steps for t in group),
        reminders=sum(t.reminders for t in group),
        declines=sum(t.declines for t in group),
        reassignments=sum(t.reassignments for t in group),
        skipped=sum(t.status is TaskStatus.SKIPPED for t in group),
    )


def follow_up_counts(
    tasks: Iterable[TaskMetrics], plans: Iterable[FollowUpPlan], now: datetime
) -> FollowUpCounts:
    """Follow-ups done, overdue (open past their due time), and still scheduled: open within
    their window, or not come due yet (their run not cancelled, their incident not closed,
    their parent task not skipped)."""
    done = overdue = scheduled = 0
    seen: set[tuple[str, str]] = set()
    skipped: set[tuple[str, str]] = set()
    for task in tasks:
        seen.add((task.incident_id, task.key))
        if task.status is TaskStatus.SKIPPED:
            skipped.add((task.incident_id, task.key))
        if task.follow_up_of is None:
            continue
        if task.status is TaskStatus.COMPLETED:
            done += 1
        elif task.status in OPEN:
            if task.due_met is False:
                overdue += 1
            else:
                scheduled += 1
    for plan in plans:
        if plan.closed:
            continue
        for planned in plan.planned:
            here = plan.incident_id
            if (
                planned.run not in plan.cancelled_runs
                and planned.due_at > now
                and (here, planned.task_key) not in seen
                and (here, planned.parent_key) not in skipped
            ):
                scheduled += 1
    return FollowUpCounts(done=done, overdue=overdue, scheduled=scheduled)


def _grouped(
    tasks: Sequence[TaskMetrics], keys: Callable[[TaskMetrics], Iterable[str]]
) -> dict[str, MetricsSummary]:
    groups: dict[str, list[TaskMetrics]] = defaultdict(list)
    for task in tasks:
        for key in keys(task):
            groups[key].append(task)
    return {key: summarise(groups[key]) for key in sorted(groups)}


def aggregate(
    records: Iterable[TaskMetricsRecord],
    plans: Iterable[FollowUpPlan],
    now: datetime,
    families: Families,
) -> MetricsAggregates:
    tasks = [measure(r, now) for r in records]
    return MetricsAggregates(
        incidents=len({t.incident_id for t in tasks}),
        tasks=len(tasks),
        overall=summarise(tasks),
        by_role=_grouped(tasks, lambda t: (t.role,)),
        by_family=_grouped(tasks, lambda t: sorted(set(families(t.role)))),
        by_phase=_grouped(tasks, lambda t: (t.phase or NO_PHASE,)),
        follow_ups=follow_up_counts(tasks, plans, now),
    )


def families_in(roster: Roster) -> Families:
    """The families of each role, as the roster declares them."""
    known = {role.id: tuple(f.value for f in role.families) for role in roster.roles}
    return lambda role: known.get(role, ())


def task_metrics(events: Iterable[AnyEvent], now: datetime) -> tuple[TaskMetrics, ...]:
    return tuple(measure(r, now) for r in records_of(events).tasks)


@dataclass(frozen=True)
class IncidentMetrics:
    incident_id: str
    tasks: tuple[TaskMetrics, ...]
    aggregates: MetricsAggregates


def incident_metrics(
    events: Iterable[AnyEvent], now: datetime, families: Families
) -> IncidentMetrics:
    records = records_of(events)
    return IncidentMetrics(
        incident_id=records.incident_id,
        tasks=tuple(measure(r, now) for r in records.tasks),
        aggregates=aggregate(records.tasks, (records.plan,), now, families),
    )
