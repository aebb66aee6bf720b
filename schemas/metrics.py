"""Response metrics: what the metrics projection stores per task (and per incident, for the
follow-ups still to come), and the aggregates a metrics query replies with.

A task's record is a fold of its events that any order of arrival and any redelivery leaves the
same: earliest times are minima, what was counted is a set of event ids, and the task's current
state is the one of the latest stream sequence seen. So two projectors may fold one task's
events at once, in any order, and nothing is counted twice."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from schemas.base import Contract, IncidentId, RoleId, Slug, TaskId, UtcDateTime
from schemas.commands import Query
from schemas.enums import TaskStatus, Tier


class TaskMetricsRecord(Contract):
    task_id: TaskId
    incident_id: IncidentId
    incident_type: Slug
    incident_logged_at: UtcDateTime
    exercise: bool = False
    key: Slug
    title: str
    role: RoleId
    phase: Slug | None = None
    tier: Tier
    required: bool
    follow_up_of: Slug | None = None
    seq: int = Field(ge=0, description="Stream sequence of the latest event folded into `status`")
    status: TaskStatus
    skipped_reason: str | None = None
    created_at: UtcDateTime = Field(description="The earliest event of the task")
    first_assigned_at: UtcDateTime | None = None
    acknowledged_at: UtcDateTime | None = Field(default=None, description="The first time")
    acknowledge_by_then: UtcDateTime | None = Field(
        default=None, description="The deadline of the assignment that was acknowledged"
    )
    acknowledge_window_then: timedelta | None = None
    completed_at: UtcDateTime | None = None
    due_by_then: UtcDateTime | None = Field(
        default=None, description="The due time of the assignment that completed it"
    )
    due_window_then: timedelta | None = None
    cancelled_at: UtcDateTime | None = None
    acknowledge_by: UtcDateTime | None = Field(default=None, description="As of `seq`")
    acknowledge_window: timedelta | None = None
    due_by: UtcDateTime | None = None
    due_window: timedelta | None = None
    assignments: int = Field(default=0, ge=0, description="How many times it was handed over")
    escalations: tuple[str, ...] = Field(default=(), description="Event ids of escalation steps")
    reminders: tuple[str, ...] = Field(default=(), description="Event ids of reminders")
    declines: tuple[str, ...] = Field(default=(), description="Event ids of declines")


class PlannedFollowUp(Contract):
    task_key: Slug = Field(description="The key the follow-up's task gets when it comes due")
    parent_key: Slug
    run: int = Field(ge=1)
    due_at: UtcDateTime


class FollowUpPlan(Contract):
    """The follow-ups an incident's runs scheduled: those not come due yet are still scheduled,
    unless their run was cancelled, the incident closed, or their parent task skipped."""

    incident_id: IncidentId
    planned: tuple[PlannedFollowUp, ...] = ()
    cancelled_runs: tuple[int, ...] = ()
    closed: bool = False


class MetricsSummary(Contract):
    """One group's figures. Percentiles are nearest-rank; a window counts once decided (met,
    or missed: done late or still open past it)."""

    tasks: int = 0
    median_assign: timedelta | None = None
    median_acknowledge: timedelta | None = None
    p90_acknowledge: timedelta | None = None
    median_acknowledge_window: timedelta | None = Field(
        default=None, description="The median of the group's acknowledge windows"
    )
    median_complete: timedelta | None = None
    p90_complete: timedelta | None = None
    windows: int = 0
    windows_met: int = 0
    escalations: int = 0
    reminders: int = 0
    declines: int = 0
    reassignments: int = 0
    skipped: int = 0

    @property
    def share_met(self) -> float | None:
        return self.windows_met / self.windows if self.windows else None


class FollowUpCounts(Contract):
    done: int = 0
    overdue: int = 0
    scheduled: int = Field(default=0, description="Not come due yet, or open within its window")


class MetricsAggregates(Contract):
    incidents: int = 0
    tasks: int = 0
    overall: MetricsSummary = MetricsSummary()
    by_role: dict[str, MetricsSummary] = {}
    by_family: dict[str, MetricsSummary] = {}
    by_phase: dict[str, MetricsSummary] = {}
    follow_ups: FollowUpCounts = FollowUpCounts()


class GetMetrics(Query):
    """Response metrics across the incidents logged since a time (of a type, if given)."""

    since: UtcDateTime = Field(description="Incidents logged at or after this time")
    incident_type: Slug | None = None
    exercises: bool = Field(default=False, description="Count exercises too")
    limit: int = Field(default=1000, ge=1, le=10_000, description="The most incidents counted")


class MetricsReply(Contract):
    since: UtcDateTime
    incident_type: Slug | None = None
    exercises: bool = False
    as_of: UtcDateTime
    truncated: bool = Field(default=False, description="More incidents matched than `limit`")
    metrics: MetricsAggregates
