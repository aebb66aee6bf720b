"""The after-action report of an incident for one audience, from its events, as a pure function.

What the audience may see is the access policy's: the tiers of tasks it sees
(`access.AUDIENCE_TIERS`), the incident summary as its reader sees it (`access.incident_view`),
and the timeline entries already redacted for that reader (services/timeline/render.py). Here
those answers are applied; nothing is decided."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from schemas.enums import Tier
from schemas.events import AnyEvent, TaskEscalated
from schemas.metrics import FollowUpPlan, MetricsSummary
from schemas.report import Audience, ReviewReport, TaskFigures
from schemas.views import IncidentSummary, TimelineEntry
from services.core import access
from services.core.improvement import improvement_plan
from services.core.metrics import (
    NO_PHASE,
    Families,
    TaskMetrics,
    follow_up_counts,
    measure,
    summarise,
)
from services.core.metrics_fold import records_of

NO_FAMILY = "(no family)"


def groups(
    tasks: Sequence[TaskMetrics], keys: Callable[[TaskMetrics], Iterable[str]]
) -> dict[str, MetricsSummary]:
    """Each group's figures; a task in several groups (a role of two families) counts in each."""
    members: dict[str, list[TaskMetrics]] = defaultdict(list)
    for task in tasks:
        for key in keys(task):
            members[key].append(task)
    return {name: summarise(members[name]) for name in sorted(members)}


def _plan_for(plan: FollowUpPlan | None, keys: set[str]) -> tuple[FollowUpPlan, ...]:
    """The follow-ups still to come of the tasks the audience sees."""
    if plan is None:
        return ()
    planned = tuple(p for p in plan.planned if p.parent_key in keys)
    return (plan.model_copy(update={"planned": planned}),)


def _figures(
    task: TaskMetrics, families: tuple[str, ...], escalated_at: tuple[datetime, ...]
) -> TaskFigures:
    return TaskFigures(
        task_id=task.task_id,
        key=task.key,
        title=task.title,
        role=task.role,
        families=families,
        phase=task.phase,
        tier=task.tier,
        required=task.required,
        follow_up_of=task.follow_up_of,
        status=task.status,
        skipped_reason=task.skipped_reason,
        created_at=task.created_at,
        first_assigned_at=task.first_assigned_at,
        acknowledged_at=task.acknowledged_at,
        completed_at=task.completed_at,
        ack_window=task.ack_window,
        due_window=task.due_window,
        ack_met=task.ack_met,
        due_met=task.due_met,
        time_to_assign=task.time_to_assign,
        time_to_acknowledge=task.time_to_acknowledge,
        time_to_complete=task.time_to_complete,
        escalation_steps=task.escalation_steps,
        reminders=task.reminders,
        declines=task.declines,
        reassignments=task.reassignments,
        escalated_at=escalated_at,
    )


def _escalations(events: Iterable[AnyEvent]) -> dict[str, tuple[datetime, ...]]:
    found: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        if isinstance(event, TaskEscalated):
            found[event.task.task_id].append(event.at)
    return {task: tuple(times) for task, times in found.items()}


def _shown(
    entries: Iterable[TimelineEntry], audience: Audience, tiers: dict[str, Tier]
) -> tuple[tuple[TimelineEntry, ...], int]:
    """The entries of the tasks the audience sees (and, for the public, public entries only),
    and how many were left out."""
    seen = access.AUDIENCE_TIERS[audience]
    kept: list[TimelineEntry] = []
    left_out = 0
    for entry in entries:
        task_tier = tiers.get(entry.task_id) if entry.task_id else None
        if (task_tier is None or task_tier in seen) and entry.tier in seen:
            kept.append(entry)
        elif task_tier is not None and task_tier not in seen:
            left_out += 1
        elif entry.tier is Tier.RESTRICTED:
            # A restricted entry of a task the audience sees: that it exists is on the record.
            kept.append(entry)
    return tuple(kept), left_out


# What the report shows of the improvement plan: what each finding and action is, not who wrote
# it nor the completion note (that is command-tier text of a task, in its timeline entry).
_FINDING = {"kind", "text", "family", "phase"}
_ACTION = {"text", "owner", "due_by", "status", "escalations", "completed_at"}


def _plan(incident_id: str, events: Sequence[AnyEvent], audience: Audience) -> dict[str, object]:
    """Findings and corrective actions, for command staff and reviewers (who read them)."""
    if audience is Audience.PUBLIC:
        return {}
    plan = improvement_plan(incident_id, events)
    return {
        "findings": tuple(f.model_dump(mode="json", include=_FINDING) for f in plan.findings),
        "actions": tuple(a.model_dump(mode="json", include=_ACTION) for a in plan.actions),
    }


def build_report(
    incident: IncidentSummary,
    reader: access.Reader,
    audience: Audience,
    events: Sequence[AnyEvent],
    entries: Sequence[TimelineEntry],
    families: Families,
    now: datetime,
    record_digest: str | None = None,
) -> ReviewReport:
    """`reader` is the audience's (`access.audience_reader`) and `entries` the timeline as it
    sees it (notes already redacted). The figures are those of the tasks the audience sees."""
    seen = access.AUDIENCE_TIERS[audience]
    records = records_of(events)
    tasks = [t for t in (measure(r, now) for r in records.tasks) if t.tier in seen]
    escalated = _escalations(events)
    # Each task's tier as its latest event has it, which is what its record keeps.
    tiers = {r.task_id: r.tier for r in records.tasks}
    shown, left_out = _shown(entries, audience, tiers)
    if audience not in access.AUDIENCES_NAMING_PEOPLE:
        shown, left_out = (), left_out + len(shown)
    plan = _plan_for(records.plan, {t.key for t in tasks})
    return ReviewReport(
        incident=access.report_incident_view(reader, audience, incident),
        audience=audience,
        generated_at=now,
        tasks=tuple(
            _figures(t, tuple(families(t.role)), escalated.get(t.task_id, ())) for t in tasks
        ),
        by_role={} if audience is Audience.PUBLIC else groups(tasks, lambda t: (t.role,)),
        by_family=groups(tasks, lambda t: tuple(families(t.role)) or (NO_FAMILY,)),
        by_phase=groups(tasks, lambda t: (t.phase or NO_PHASE,)),
        overall=summarise(tasks),
        follow_ups=follow_up_counts(tasks, plan, now),
        entries=shown,
        entries_withheld=left_out,
        record_digest=record_digest,
        **_plan(incident.incident_id, events, audience),
    )
