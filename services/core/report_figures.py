"""The report's figures as rows of text, shared by its HTML and Markdown forms so both say the
same thing. Pure."""

from __future__ import annotations

from datetime import timedelta

from schemas.metrics import MetricsSummary
from schemas.report import Audience, ReviewReport, TaskFigures
from services.core import access
from services.core.printable import visible
from services.core.timeline_formats import elapsed_seconds, incident_facts, t_plus

NONE = "–"
AUDIENCES = {
    Audience.PUBLIC: "Public: public tasks and timings only",
    Audience.COMMAND: "Command staff: public and command tasks",
    Audience.FULL: "Reviewers: every task (restricted text is never shown)",
}
GROUP_HEADINGS = (
    "Tasks",
    "Median to acknowledge",
    "p90 to acknowledge",
    "Median to complete",
    "p90 to complete",
    "Windows met",
    "Escalations",
    "Declines",
    "Reassignments",
    "Skipped",
)
TASK_HEADINGS = (
    "Task",
    "Role",
    "Phase",
    "Tier",
    "Status",
    "To assign",
    "To acknowledge (window)",
    "To complete (window)",
    "Escalations",
    "Declines",
    "Reassigned",
)


def duration(value: timedelta | None) -> str:
    """`0.45s`, `45s`, `12m 05s`, `3h 20m`, `2d 04h`: two units at most, enough to compare
    (an exercise at a small time scale has windows of fractions of a second)."""
    if value is None:
        return NONE
    exact = value.total_seconds()
    if exact < 10 and exact != int(exact):
        return f"{exact:.2g}s"
    seconds = int(exact)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def share_met(group: MetricsSummary) -> float | None:
    return group.windows_met / group.windows if group.windows else None


def share(group: MetricsSummary) -> str:
    if not group.windows:
        return NONE
    return f"{group.windows_met}/{group.windows} ({100 * group.windows_met / group.windows:.0f}%)"


def group_row(name: str, group: MetricsSummary) -> list[str]:
    return [
        visible(name),
        str(group.tasks),
        duration(group.median_acknowledge),
        duration(group.p90_acknowledge),
        duration(group.median_complete),
        duration(group.p90_complete),
        share(group),
        str(group.escalations),
        str(group.declines),
        str(group.reassignments),
        str(group.skipped),
    ]


def _against(took: timedelta | None, window: timedelta | None, met: bool | None) -> str:
    verdict = {True: "met", False: "missed", None: ""}[met]
    within = f" ({duration(window)}{', ' + verdict if verdict else ''})" if window else ""
    return duration(took) + within


def task_row(task: TaskFigures) -> list[str]:
    status = task.status.value
    if task.skipped_reason:
        status += f": {task.skipped_reason}"
    name = visible(task.title) + (
        f" (follow-up of {task.follow_up_of})" if task.follow_up_of else ""
    )
    return [
        f"{name} ({task.key})",
        task.role,
        task.phase or NONE,
        task.tier.value,
        visible(status),
        duration(task.time_to_assign),
        _against(task.time_to_acknowledge, task.ack_window, task.ack_met),
        _against(task.time_to_complete, task.due_window, task.due_met),
        str(task.escalation_steps),
        str(task.declines),
        str(task.reassignments),
    ]


def report_facts(report: ReviewReport) -> list[tuple[str, str]]:
    facts = incident_facts(report.incident)
    facts.append(("Audience", AUDIENCES[report.audience]))
    stamp = report.generated_at.strftime("%Y-%m-%d %H:%M:%S")
    since = t_plus(elapsed_seconds(report.generated_at, report.incident.logged_at))
    facts.append(("Report built", f"{stamp} UTC ({since})"))
    facts.append(("Record digest", report.record_digest or "not sealed (no digest)"))
    return facts


def overall_facts(report: ReviewReport) -> list[tuple[str, str]]:
    overall = report.overall
    follow = report.follow_ups
    return [
        ("Tasks", str(overall.tasks)),
        ("Windows met", share(overall)),
        ("Median to acknowledge", duration(overall.median_acknowledge)),
        ("Median to complete", duration(overall.median_complete)),
        ("Escalation steps", str(overall.escalations)),
        ("Declines", str(overall.declines)),
        ("Reassignments", str(overall.reassignments)),
        ("Skipped", str(overall.skipped)),
        (
            "Follow-ups",
            f"{follow.done} done, {follow.overdue} overdue, {follow.scheduled} still scheduled",
        ),
    ]


def group_tables(report: ReviewReport) -> list[tuple[str, str, dict[str, MetricsSummary]]]:
    """(caption, what a group is, groups) for each table of timings the audience gets."""
    tables = [
        ("Timings by role family", "Role family", report.by_family),
        ("Timings by phase", "Phase", report.by_phase),
    ]
    if report.audience is not Audience.PUBLIC:
        tables.append(("Timings by role", "Role", report.by_role))
    return tables


def withheld_line(report: ReviewReport) -> str | None:
    if report.audience not in access.AUDIENCES_NAMING_PEOPLE:
        return (
            "The timeline is not part of the public report: its entries name the people who "
            "acted. It is in the command report."
        )
    if not report.entries_withheld:
        return None
    return (
        f"{report.entries_withheld} entries of tasks outside this audience are not shown "
        "(they are in the record)."
    )


def no_plan_line(report: ReviewReport) -> str:
    """What the findings section says when it lists nothing."""
    if report.audience is Audience.PUBLIC:
        return "The improvement plan is not part of the public report: it is in the command report."
    return "None recorded yet."


def plan_lines(report: ReviewReport) -> list[str]:
    """Findings, then corrective actions, one line each (their shape is the improvement plan's)."""
    lines = []
    for kind, items in (("Finding", report.findings), ("Corrective action", report.actions)):
        for item in items:
            said = "; ".join(f"{k}: {v}" for k, v in item.items())
            lines.append(visible(f"{kind}: {said}"))
    return lines
