"""The after-action report of one incident, as one audience may read it.

The timeline service builds it from the incident's events; the renderers (services/core/report_*)
turn it into HTML, Markdown and JSON without deciding anything about what may appear: whatever
the audience may not see is already left out here."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from schemas.base import Contract, IncidentId, RoleId, Slug, TaskId, UtcDateTime
from schemas.commands import Query
from schemas.enums import TaskStatus, Tier
from schemas.metrics import FollowUpCounts, MetricsSummary
from schemas.views import IncidentSummary, TimelineEntry


class Audience(StrEnum):
    """Who a report is for. What each may see is the access policy's (services/core/access.py)."""

    PUBLIC = "public"  # public-tier tasks and public text, timings per family and phase
    COMMAND = "command"  # command staff: public and command-tier tasks, per role
    FULL = "full"  # reviewers: every task; restricted text still never


class ReportFormat(StrEnum):
    """A report rendered as one document by the service that builds it."""

    HTML = "html"  # one self-contained file (services/core/report_html.py)
    MD = "md"  # Markdown (services/core/report_text.py)


class GetReviewReport(Query):
    incident_id: IncidentId
    audience: Audience = Audience.PUBLIC
    # Rendering where the report is built saves sending every timeline entry as data only for
    # the reader to turn it into text: a long incident's entries are most of the report.
    format: ReportFormat | None = Field(
        default=None,
        description="Answer with the report rendered as this document (a ReportDocument); "
        "none: the report's data (a ReviewReport)",
    )


class TaskFigures(Contract):
    """One task's timings and what happened to it. No person's name and no text people wrote."""

    task_id: TaskId
    key: Slug
    title: str
    role: RoleId
    families: tuple[str, ...] = ()
    phase: Slug | None = None
    tier: Tier
    required: bool
    follow_up_of: Slug | None = None
    status: TaskStatus
    skipped_reason: str | None = None
    created_at: UtcDateTime
    first_assigned_at: UtcDateTime | None = None
    acknowledged_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    ack_window: timedelta | None = None
    due_window: timedelta | None = None
    ack_met: bool | None = None
    due_met: bool | None = None
    time_to_assign: timedelta | None = None
    time_to_acknowledge: timedelta | None = Field(
        default=None, description="From the first assignment"
    )
    time_to_complete: timedelta | None = Field(default=None, description="From creation")
    escalation_steps: int = 0
    reminders: int = 0
    declines: int = 0
    reassignments: int = 0
    escalated_at: tuple[UtcDateTime, ...] = Field(
        default=(), description="When each escalation step ran (the swimlane's marks)"
    )


class ReviewReport(Contract):
    incident: IncidentSummary
    audience: Audience
    generated_at: UtcDateTime
    tasks: tuple[TaskFigures, ...] = Field(description="The tasks this audience may see")
    # The figures of those tasks (services/core/metrics.py: nearest-rank percentiles).
    by_role: dict[str, MetricsSummary] = Field(default={}, description="Empty for the public")
    by_family: dict[str, MetricsSummary] = {}
    by_phase: dict[str, MetricsSummary] = {}
    overall: MetricsSummary
    follow_ups: FollowUpCounts = FollowUpCounts()
    entries: tuple[TimelineEntry, ...] = Field(
        description="The timeline entries this audience may see; restricted text never"
    )
    entries_withheld: int = Field(
        default=0, description="Entries of tasks this audience may not see: counted, not shown"
    )
    # Filled by the improvement plan (findings, corrective actions) once it is recorded.
    findings: tuple[dict[str, Any], ...] = ()
    actions: tuple[dict[str, Any], ...] = ()
    record_digest: str | None = Field(
        default=None, description="The digest of the sealed record the report was built from"
    )


class ReportDocument(Contract):
    """A report rendered by the timeline service: what `GetReviewReport` answers with a format."""

    incident_id: IncidentId
    audience: Audience
    format: ReportFormat
    text: str
    record_digest: str | None = Field(
        default=None, description="The digest of the sealed record the report was built from"
    )
