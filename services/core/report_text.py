"""The after-action report as Markdown, and as a JSON document: the same content as the HTML
file (services/core/report_html.py), from the same rows (services/core/report_figures.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from schemas.report import ReviewReport
from services.core import access
from services.core.report_charts import ack_groups
from services.core.report_figures import (
    AUDIENCES,
    GROUP_HEADINGS,
    TASK_HEADINGS,
    duration,
    group_row,
    group_tables,
    no_plan_line,
    overall_facts,
    plan_lines,
    report_facts,
    share_met,
    task_row,
    withheld_line,
)
from services.core.timeline_formats import (
    STAMP,
    elapsed_seconds,
    entry_t_plus,
    md,
    md_facts,
    note_of,
)


def _table(caption: str, headings: Sequence[str], rows: list[list[str]]) -> list[str]:
    lines = [f"**{md(caption)}**", "", "| " + " | ".join(headings) + " |"]
    lines.append("|" + "---|" * len(headings))
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]
    if not rows:
        lines.append("| None. |" + " |" * (len(headings) - 1))
    return [*lines, ""]


def _timeline(report: ReviewReport) -> list[str]:
    lines = ["## Timeline", ""]
    withheld = withheld_line(report)
    lines += [f"*{md(withheld)}*", ""] if withheld else []
    if report.audience not in access.AUDIENCES_NAMING_PEOPLE:
        return lines
    lines += ["| T+ | Time (UTC) | Who | What |", "|---:|---|---|---|"]
    for entry in report.entries:
        what = md(entry.text)
        note = note_of(entry)
        if note:
            what += f"<br>*Note ({entry.tier.value}):* {md(note)}"
        elapsed = entry_t_plus(entry, report.incident)
        lines.append(f"| {elapsed} | {entry.at:{STAMP}} | {md(entry.actor)} | {what} |")
    if not report.entries:
        lines.append("| | | | No entries. |")
    return lines


def _ack_lines(report: ReviewReport) -> list[str]:
    kind, rows = ack_groups(report)
    lines = [f"**Time to acknowledge against the window, by {kind}**", ""]
    lines += [
        f"- {md(r.name)}: median {duration(r.figures.median_acknowledge)}, "
        f"p90 {duration(r.figures.p90_acknowledge)}, window {duration(r.window)}"
        for r in rows
    ]
    return [*lines, ""] if rows else []


def report_markdown(report: ReviewReport) -> str:
    incident = report.incident
    lines = [f"# After-action report: {incident.incident_id} {md(incident.title)}", ""]
    if incident.exercise:
        lines += ["**EXERCISE: not a real incident.**", ""]
    lines += [f"*{md(AUDIENCES[report.audience])}*", "", "## The incident", ""]
    lines += [*md_facts(report_facts(report)), "", "## At a glance", ""]
    lines += [*md_facts(overall_facts(report)), "", "## Timings", ""]
    lines += _ack_lines(report)
    for caption, kind, groups in group_tables(report):
        rows = [group_row(name, g) for name, g in groups.items()]
        lines += _table(caption, (kind, *GROUP_HEADINGS), rows)
    lines += ["## Tasks", ""]
    lines += _table(
        "Each task this report covers", TASK_HEADINGS, [task_row(t) for t in report.tasks]
    )
    lines += ["## Findings and corrective actions", ""]
    lines += [f"- {md(line)}" for line in plan_lines(report)] or [no_plan_line(report)]
    lines += ["", *_timeline(report)]
    if incident.exercise:
        lines += ["", "**EXERCISE: not a real incident.**"]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    """Durations in seconds and times in ISO 8601, for scripts to compare without parsing."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, bool | int | float | str):
        return value.value
    return value


def report_document(report: ReviewReport) -> dict[str, Any]:
    """The report as JSON-ready data: the contract's fields, durations in seconds, each group's
    share of windows met and each entry's seconds since the incident was logged."""
    document: dict[str, Any] = _plain(report.model_dump())
    for key in ("by_role", "by_family", "by_phase"):
        for name, figures in getattr(report, key).items():
            document[key][name]["share_met"] = share_met(figures)
    document["overall"]["share_met"] = share_met(report.overall)
    for entry, seen in zip(document["entries"], report.entries, strict=True):
        entry["elapsed_seconds"] = elapsed_seconds(seen.at, report.incident.logged_at)
        entry["note"] = note_of(seen)
        entry.pop("note_sealed", None)
    return document
