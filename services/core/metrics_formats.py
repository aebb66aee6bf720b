"""Response metrics as text (a table under 80 columns), CSV and JSON. Pure."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta

from schemas.metrics import MetricsReply, MetricsSummary

NAME_WIDTH = 15
# (heading, width) of each column after the group's name.
COLUMNS = (
    ("Tasks", 5),
    ("Ack50", 6),
    ("Ack90", 6),
    ("Done50", 6),
    ("Done90", 6),
    ("Met", 4),
    ("Win", 4),
    ("Esc", 4),
    ("Dcl", 4),
    ("Rea", 4),
    ("Skp", 4),
)
LEGEND = (
    "Ack: time to acknowledge, from the first assignment; Done: time to complete, from"
    " creation (50: median, 90: p90, nearest rank). Met: share of windows met of Win decided."
    " Esc: escalation steps; Dcl: declines; Rea: reassignments; Skp: skipped."
)


def short(span: timedelta | None) -> str:
    """A duration in at most six characters: 45s, 12m, 3h05m, 2d03h, 410d."""
    if span is None:
        return "-"
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 100:
        return f"{days}d"
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _share(summary: MetricsSummary) -> str:
    share = summary.share_met
    return "-" if share is None else f"{round(share * 100)}%"


def _cells(summary: MetricsSummary) -> tuple[str, ...]:
    return (
        str(summary.tasks),
        short(summary.median_acknowledge),
        short(summary.p90_acknowledge),
        short(summary.median_complete),
        short(summary.p90_complete),
        _share(summary),
        str(summary.windows),
        str(summary.escalations),
        str(summary.declines),
        str(summary.reassignments),
        str(summary.skipped),
    )


def _name(text: str) -> str:
    return text if len(text) <= NAME_WIDTH else text[: NAME_WIDTH - 1] + "…"


def _row(name: str, cells: tuple[str, ...]) -> str:
    parts = [f"{_name(name):<{NAME_WIDTH}}"]
    parts += [f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True)]
    return " ".join(parts).rstrip()


def _table(title: str, groups: dict[str, MetricsSummary]) -> Iterator[str]:
    yield ""
    yield _row(title, tuple(heading for heading, _ in COLUMNS))
    for name, summary in groups.items():
        yield _row(name, _cells(summary))


def _wrapped(text: str, width: int) -> Iterator[str]:
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            yield line
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        yield line


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def metrics_lines(reply: MetricsReply) -> list[str]:
    metrics = reply.metrics
    kind = f"of type {reply.incident_type}" if reply.incident_type else "of every type"
    drills = "exercises included" if reply.exercises else "exercises left out"
    lines = [
        f"Response metrics: {_count(metrics.incidents, 'incident')}, "
        f"{_count(metrics.tasks, 'task')}",
        f"Logged since {reply.since:%Y-%m-%d %H:%M} UTC, {kind}, {drills}.",
    ]
    if reply.truncated:
        lines.append("Only the newest incidents are counted: more matched than the limit.")
    if not metrics.tasks:
        return [*lines, "", "No tasks were recorded for such incidents."]
    lines += _table("Overall", {"all tasks": metrics.overall})
    lines += _table("By family", metrics.by_family)
    lines += _table("By role", metrics.by_role)
    lines += _table("By phase", metrics.by_phase)
    counts = metrics.follow_ups
    lines += [
        "",
        f"Follow-ups: {counts.done} done, {counts.overdue} overdue, {counts.scheduled} scheduled.",
        "",
        *_wrapped(LEGEND, 79),
    ]
    return lines


CSV_FIELDS = (
    "group_by",
    "group",
    "tasks",
    "median_assign_s",
    "median_acknowledge_s",
    "p90_acknowledge_s",
    "median_complete_s",
    "p90_complete_s",
    "windows",
    "windows_met",
    "share_met",
    "escalations",
    "reminders",
    "declines",
    "reassignments",
    "skipped",
)


def _seconds(span: timedelta | None) -> str:
    return "" if span is None else str(int(span.total_seconds()))


def _csv_row(group_by: str, group: str, s: MetricsSummary) -> list[str]:
    share = s.share_met
    return [
        group_by,
        group,
        str(s.tasks),
        *(
            _seconds(v)
            for v in (
                s.median_assign,
                s.median_acknowledge,
                s.p90_acknowledge,
                s.median_complete,
                s.p90_complete,
            )
        ),
        str(s.windows),
        str(s.windows_met),
        "" if share is None else f"{share:.4f}",
        *(str(n) for n in (s.escalations, s.reminders, s.declines, s.reassignments, s.skipped)),
    ]


def metrics_csv(reply: MetricsReply) -> str:
    """One row per group (overall, family, role, phase); durations in seconds. The follow-ups
    are rows of their own (`follow_ups`, done|overdue|scheduled) with their count as `tasks`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    metrics = reply.metrics
    writer.writerow(_csv_row("overall", "all", metrics.overall))
    for group_by, groups in (
        ("family", metrics.by_family),
        ("role", metrics.by_role),
        ("phase", metrics.by_phase),
    ):
        for name, summary in groups.items():
            writer.writerow(_csv_row(group_by, name, summary))
    counts = metrics.follow_ups
    for state, number in (
        ("done", counts.done),
        ("overdue", counts.overdue),
        ("scheduled", counts.scheduled),
    ):
        writer.writerow(["follow_ups", state, str(number)] + [""] * (len(CSV_FIELDS) - 3))
    return out.getvalue()


def metrics_json(reply: MetricsReply) -> str:
    return json.dumps(reply.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
