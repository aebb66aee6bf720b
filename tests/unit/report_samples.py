"""A hand-made after-action report for the renderers' tests: three roles, an escalation, a
decline, a skipped task, a follow-up, and notes of each tier in its timeline."""

from __future__ import annotations

from datetime import timedelta

from schemas.enums import Severity, TaskStatus, Tier
from schemas.metrics import FollowUpCounts, MetricsSummary
from schemas.report import Audience, ReviewReport, TaskFigures
from schemas.views import IncidentSummary, TimelineEntry
from tests.unit.factories import T0

M = timedelta(minutes=1)


def _task(key: str, role: str, start: int, **changes: object) -> TaskFigures:
    fields: dict[str, object] = {
        "task_id": f"INC-AAAAAAAA.{key}",
        "key": key,
        "title": key.replace("-", " ").capitalize(),
        "role": role,
        "families": (role,),
        "phase": "immediate",
        "tier": Tier.PUBLIC,
        "required": True,
        "status": TaskStatus.COMPLETED,
        "created_at": T0 + start * M,
        "first_assigned_at": T0 + start * M,
        "acknowledged_at": T0 + (start + 5) * M,
        "completed_at": T0 + (start + 40) * M,
        "ack_window": 15 * M,
        "due_window": 60 * M,
        "ack_met": True,
        "due_met": True,
        "time_to_assign": timedelta(0),
        "time_to_acknowledge": 5 * M,
        "time_to_complete": 40 * M,
    }
    return TaskFigures.model_validate(fields | changes)


TASKS = (
    _task("public-initial-statement", "public_information", 0),
    _task(
        "community-leader-briefing",
        "community_liaison",
        2,
        acknowledged_at=T0 + 31 * M,
        time_to_acknowledge=29 * M,
        ack_met=False,
        completed_at=T0 + 75 * M,
        time_to_complete=73 * M,
        due_met=False,
        escalation_steps=2,
        declines=1,
        reassignments=1,
        escalated_at=(T0 + 17 * M, T0 + 25 * M),
        tier=Tier.COMMAND,
    ),
    _task(
        "peer-support-defusing",
        "peer_support",
        10,
        status=TaskStatus.ACKNOWLEDGED,
        completed_at=None,
        time_to_complete=None,
        due_met=None,
        tier=Tier.RESTRICTED,
    ),
    _task(
        "language-line",
        "community_liaison",
        0,
        status=TaskStatus.SKIPPED,
        skipped_reason="no family language given",
        first_assigned_at=None,
        acknowledged_at=None,
        completed_at=None,
        time_to_acknowledge=None,
        time_to_complete=None,
        time_to_assign=None,
        ack_met=None,
        due_met=None,
    ),
    _task("check-in", "peer_support", 70, follow_up_of="peer-support-defusing", phase="follow-up"),
)


def _group(tasks: int, escalations: int = 0) -> MetricsSummary:
    return MetricsSummary(
        tasks=tasks,
        median_acknowledge=5 * M,
        p90_acknowledge=29 * M,
        median_complete=40 * M,
        p90_complete=73 * M,
        windows=tasks * 2,
        windows_met=tasks,
        escalations=escalations,
    )


def entry(seq: int, minutes: int, text: str, **changes: object) -> TimelineEntry:
    fields: dict[str, object] = {
        "seq": seq,
        "at": T0 + minutes * M,
        "type": "task.noted",
        "actor": "kim.liu",
        "text": text,
    }
    return TimelineEntry.model_validate(fields | changes)


def a_report(audience: Audience = Audience.COMMAND, exercise: bool = True) -> ReviewReport:
    incident = IncidentSummary(
        incident_id="INC-AAAAAAAA",
        incident_type="officer-involved-shooting",
        title="Exercise <b>Riverside</b>",
        severity=Severity.HIGH,
        logged_at=T0,
        logged_by="renee.alvarez",
        exercise=exercise,
    )
    roles = ("community_liaison", "peer_support", "public_information")
    return ReviewReport(
        incident=incident,
        audience=audience,
        generated_at=T0 + 120 * M,
        tasks=TASKS,
        by_role={r: _group(2, 2 if r == "community_liaison" else 0) for r in roles},
        by_family={r: _group(2) for r in roles},
        by_phase={"immediate": _group(4, 2), "follow-up": _group(1)},
        overall=_group(5, 2),
        follow_ups=FollowUpCounts(done=1, overdue=0, scheduled=3),
        entries=(
            entry(1, 0, "Incident logged", type="incident.logged", actor="renee.alvarez"),
            entry(2, 5, "kim.liu added a note", note="Statement posted", tier=Tier.PUBLIC),
            entry(3, 31, "marcus.bell declined community-leader-briefing", type="task.declined"),
        ),
        entries_withheld=2,
    )
