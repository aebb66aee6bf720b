"""The report's charts as inline SVG, drawn from its figures: a swimlane per role over T+ time
(each task a bar from assignment to completion, with its acknowledge and due deadlines, its
acknowledgement and its escalations), and time to acknowledge against the window, by role.

Pure; every text is escaped; each chart has a <title> and a <desc> for screen readers and a
<title> per task and bar, so what a mark means never rests on its colour alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from statistics import median_low

from schemas.enums import TaskStatus
from schemas.metrics import MetricsSummary
from schemas.report import Audience, ReviewReport, TaskFigures
from services.core.report_figures import duration

WIDTH = 960
LABEL = 230  # the left column: role and task names
RIGHT = 24
ROW = 20
LANE_GAP = 6
HEAD = 20  # a lane's first line: its role
AXIS = 34
LEGEND = 30
SWIM_LEGEND = 52  # two lines
# Colours that print on white and keep apart for the commonest colour blindness.
BAR = "#4f7db3"
OPEN_BAR = "#a9c1de"
CANCELLED = "#b9b9b9"
ACK_DUE = "#c46a00"
DUE = "#6b3fa0"
ESCALATED = "#c0261c"
ACKNOWLEDGED = "#1b1b1b"
_STEPS = (1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800)


def _esc(text: str) -> str:
    return escape(text, quote=True)


def _tick_step(span: float) -> int:
    return next((s for s in _STEPS if span / s <= 8), _STEPS[-1])


def tick_label(seconds: float, step: int) -> str:
    """T+ as the axis needs it: seconds shown while the ticks are under a minute apart."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if step < 60:
        return f"T+{hours * 60 + minutes}:{secs:02d}"
    head = f"{days}d " if days else ""
    return f"T+{head}{hours:02d}:{minutes:02d}"


@dataclass(frozen=True)
class _Scale:
    origin: datetime
    span: float  # seconds

    def beyond(self, at: datetime) -> bool:
        return (at - self.origin).total_seconds() > self.span

    def x(self, at: datetime) -> float:
        seconds = max(0.0, (at - self.origin).total_seconds())
        return LABEL + (WIDTH - LABEL - RIGHT) * min(seconds / self.span, 1.0)


def _start(task: TaskFigures) -> datetime:
    return task.first_assigned_at or task.created_at


def _deadlines(task: TaskFigures) -> tuple[datetime | None, datetime | None]:
    start = _start(task)
    ack = start + task.ack_window if task.ack_window is not None else None
    due = start + task.due_window if task.due_window is not None else None
    return ack, due


def _moments(task: TaskFigures) -> list[datetime]:
    """What happened to the task (its deadlines aside)."""
    found = [task.created_at, *task.escalated_at]
    found += [t for t in (task.first_assigned_at, task.acknowledged_at, task.completed_at) if t]
    return found


def _drawn(report: ReviewReport) -> list[TaskFigures]:
    return [t for t in report.tasks if t.status is not TaskStatus.SKIPPED]


def _end(task: TaskFigures, report: ReviewReport) -> datetime:
    if task.completed_at is not None:
        return task.completed_at
    if task.status is TaskStatus.CANCELLED:
        return max(_moments(task))
    return report.generated_at


def _axis(scale: _Scale, top: float, bottom: float) -> list[str]:
    step = _tick_step(scale.span)
    parts = ['<g class="axis" font-size="11" fill="#444">']
    tick = 0
    while tick <= scale.span:
        x = scale.x(scale.origin + timedelta(seconds=tick))
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#d4d4d4"/>'
            f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">'
            f"{tick_label(tick, step)}</text>"
        )
        tick += step
    parts.append("</g>")
    return parts


_LEGEND_ROWS = (
    (
        (f'<rect width="18" height="8" y="-7" fill="{BAR}"/>', "assigned, until completed"),
        (f'<rect width="18" height="8" y="-7" fill="{OPEN_BAR}"/>', "assigned, still open"),
        ('<line x1="0" y1="-3" x2="18" y2="-3" stroke="#8a8a8a" stroke-dasharray="3 2"/>',
         "waiting or not yet assigned"),
    ),
    (
        (f'<circle cx="6" cy="-3" r="4" fill="{ACKNOWLEDGED}"/>', "acknowledged"),
        (f'<rect x="4" y="-10" width="3" height="14" fill="{ACK_DUE}"/>', "acknowledge by"),
        (f'<rect x="4" y="-10" width="3" height="14" fill="{DUE}"/>', "due by"),
        (f'<path d="M6 -9 L11 -3 L6 3 L1 -3 Z" fill="{ESCALATED}"/>', "escalation step"),
        ('<path d="M2 -9 L11 -3 L2 3 Z" fill="#777"/>', "deadline later than shown"),
    ),
)  # fmt: skip


def _legend(y: float) -> str:
    parts = [f'<g font-size="12" fill="#1b1b1b" transform="translate(8,{y})">']
    for line, items in enumerate(_LEGEND_ROWS):
        x = 0.0
        for mark, text in items:
            parts.append(
                f'<g transform="translate({x:.0f},{line * 20})">{mark}'
                f'<text x="24" y="0">{text}</text></g>'
            )
            x += 44 + 7.2 * len(text)
    parts.append("</g>")
    return "".join(parts)


def _task_title(task: TaskFigures) -> str:
    ack, due = _deadlines(task)
    facts = [f"{task.key} ({task.status.value})"]
    facts.append(f"acknowledged after {duration(task.time_to_acknowledge)}")
    if ack is not None:
        facts.append(f"acknowledge window {duration(task.ack_window)}")
    facts.append(f"completed after {duration(task.time_to_complete)}")
    if due is not None:
        facts.append(f"due window {duration(task.due_window)}")
    if task.escalation_steps:
        facts.append(f"{task.escalation_steps} escalation steps")
    return _esc(", ".join(facts))


def _task_row(task: TaskFigures, report: ReviewReport, scale: _Scale, y: float) -> str:
    mid = y + ROW / 2
    start, end = scale.x(_start(task)), scale.x(_end(task, report))
    colour = {TaskStatus.COMPLETED: BAR, TaskStatus.CANCELLED: CANCELLED}.get(task.status, OPEN_BAR)
    name = task.key if len(task.key) <= 30 else task.key[:29] + "…"
    parts = [f"<g><title>{_task_title(task)}</title>"]
    parts.append(
        f'<text x="{LABEL - 8}" y="{mid + 4:.1f}" text-anchor="end" font-size="11" '
        f'fill="#333">{_esc(name)}</text>'
    )
    if task.first_assigned_at is not None and task.first_assigned_at > task.created_at:
        waited = scale.x(task.created_at)
        parts.append(
            f'<line x1="{waited:.1f}" y1="{mid}" x2="{start:.1f}" y2="{mid}" '
            'stroke="#8a8a8a" stroke-dasharray="3 2"/>'
        )
    if task.first_assigned_at is None:
        parts.append(
            f'<line x1="{start:.1f}" y1="{mid}" x2="{end:.1f}" y2="{mid}" '
            'stroke="#8a8a8a" stroke-dasharray="3 2"/>'
        )
    else:
        parts.append(
            f'<rect x="{start:.1f}" y="{mid - 5}" width="{max(end - start, 2):.1f}" '
            f'height="10" rx="2" fill="{colour}"/>'
        )
    parts += _deadline_marks(task, scale, mid)
    if task.acknowledged_at is not None:
        parts.append(
            f'<circle cx="{scale.x(task.acknowledged_at):.1f}" cy="{mid}" r="4" '
            f'fill="{ACKNOWLEDGED}" stroke="#fff" stroke-width="1"/>'
        )
    for at in task.escalated_at:
        x = scale.x(at)
        parts.append(
            f'<path d="M{x:.1f} {mid - 7} L{x + 6:.1f} {mid} L{x:.1f} {mid + 7} '
            f'L{x - 6:.1f} {mid} Z" fill="{ESCALATED}" stroke="#fff" stroke-width="1"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def _deadline_marks(task: TaskFigures, scale: _Scale, mid: float) -> list[str]:
    marks = []
    for index, (deadline, tint) in enumerate(zip(_deadlines(task), (ACK_DUE, DUE), strict=True)):
        if deadline is None:
            continue
        if scale.beyond(deadline):
            # Later than the chart reaches: an arrow past its right edge (the due-by one a
            # little further out); the task's title says the window.
            tip = WIDTH - RIGHT + 10 + 12 * index
            marks.append(
                f'<path d="M{tip - 9} {mid - 6} L{tip} {mid} L{tip - 9} {mid + 6} Z" '
                f'fill="{tint}"/>'
            )
        else:
            x = scale.x(deadline)
            marks.append(
                f'<rect x="{x - 1.5:.1f}" y="{mid - 8}" width="3" height="16" fill="{tint}"/>'
            )
    return marks


def _lanes(tasks: Sequence[TaskFigures]) -> dict[str, list[TaskFigures]]:
    lanes: dict[str, list[TaskFigures]] = {}
    for task in sorted(tasks, key=lambda t: (t.role, t.created_at, t.key)):
        lanes.setdefault(task.role, []).append(task)
    return lanes


def swimlane_svg(report: ReviewReport) -> str:
    tasks = _drawn(report)
    if not tasks:
        return ""
    origin = report.incident.logged_at
    # The chart spans what happened: a deadline beyond it is an arrow at its right edge, so
    # that a week-long window does not squeeze the first hour into a sliver.
    last = max(max([*_moments(t), _end(t, report)]) for t in tasks)
    scale = _Scale(origin, max((last - origin).total_seconds() * 1.04, 1.0))
    lanes = _lanes(tasks)
    height = SWIM_LEGEND + sum(HEAD + len(v) * ROW + LANE_GAP for v in lanes.values()) + AXIS
    escalations = sum(len(t.escalated_at) for t in tasks)
    parts = [
        f'<svg role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" aria-labelledby="swim-title swim-desc" font-family="system-ui, sans-serif">',
        '<title id="swim-title">Tasks by role over time since the incident was logged</title>',
        f'<desc id="swim-desc">One lane per role ({len(lanes)} roles, {len(tasks)} tasks). Each '
        "bar runs from assignment to completion; marks show when each task was acknowledged, "
        f"its acknowledge-by and due-by deadlines, and {escalations} escalation steps.</desc>",
        _legend(18),
    ]
    y = float(SWIM_LEGEND)
    rows: list[str] = []
    for index, (role, members) in enumerate(lanes.items()):
        lane_height = HEAD + len(members) * ROW + LANE_GAP
        shade = "#f1f4f8" if index % 2 == 0 else "#ffffff"
        parts.append(
            f'<rect x="0" y="{y}" width="{WIDTH}" height="{lane_height}" fill="{shade}"/>'
            f'<text x="8" y="{y + 15}" font-size="12.5" font-weight="700" fill="#1b1b1b">'
            f"{_esc(role)}</text>"
        )
        rows += [_task_row(t, report, scale, y + HEAD + n * ROW) for n, t in enumerate(members)]
        y += lane_height
    # The grid under the bars, the bars over it.
    parts += [*_axis(scale, SWIM_LEGEND, y), *rows]
    parts.append("</svg>")
    return "\n".join(parts)


def _window(name: str, tasks: Sequence[TaskFigures], by_family: bool) -> timedelta | None:
    members = [t for t in tasks if (name in t.families if by_family else t.role == name)]
    windows = [t.ack_window for t in members if t.ack_window is not None]
    return median_low(windows) if windows else None


@dataclass(frozen=True)
class AckRow:
    name: str
    figures: MetricsSummary
    window: timedelta | None  # the median of the group's acknowledge windows


def ack_groups(report: ReviewReport) -> tuple[str, list[AckRow]]:
    """What the acknowledgement chart compares: roles, or families for the public report."""
    by_family = report.audience is Audience.PUBLIC
    groups = report.by_family if by_family else report.by_role
    rows = [AckRow(n, g, _window(n, report.tasks, by_family)) for n, g in groups.items()]
    kind = "role family" if by_family else "role"
    return kind, [r for r in rows if r.figures.median_acknowledge is not None or r.window]


def _seconds(value: timedelta | None) -> float:
    return value.total_seconds() if value is not None else 0.0


def _ack_row(row: AckRow, top: float, unit: float) -> str:
    mid = top + 14
    group, window, median_ack = row.figures, row.window, row.figures.median_acknowledge
    median, p90 = _seconds(median_ack), _seconds(group.p90_acknowledge)
    late = window is not None and median_ack is not None and median_ack > window
    verdict = "over the window" if late else "within the window"
    words = (
        f"{row.name}: median {duration(median_ack)}, p90 {duration(group.p90_acknowledge)}, "
        f"window {duration(window)}" + (f" ({verdict})" if window and median_ack else "")
    )
    parts = [f"<g><title>{_esc(words)}</title>"]
    parts.append(
        f'<text x="{LABEL - 8}" y="{mid + 4}" text-anchor="end" font-size="12" fill="#1b1b1b">'
        f"{_esc(row.name)}</text>"
    )
    if median_ack is not None:
        fill = ESCALATED if late else BAR
        parts.append(
            f'<rect x="{LABEL}" y="{mid - 8}" width="{max(median * unit, 2):.1f}" height="16" '
            f'fill="{fill}"/>'
            f'<line x1="{LABEL + median * unit:.1f}" y1="{mid}" x2="{LABEL + p90 * unit:.1f}" '
            f'y2="{mid}" stroke="#1b1b1b" stroke-width="2"/>'
        )
    if window is not None:
        x = LABEL + _seconds(window) * unit
        parts.append(
            f'<rect x="{x - 1.5:.1f}" y="{mid - 12}" width="3" height="24" fill="{ACK_DUE}"/>'
        )
    label = f"{duration(median_ack)} / {duration(window)}"
    parts.append(
        f'<text x="{WIDTH - 4}" y="{mid + 4}" text-anchor="end" font-size="11" fill="#333">'
        f"{_esc(label)}</text></g>"
    )
    return "".join(parts)


def ack_svg(report: ReviewReport) -> str:
    return ack_chart(*ack_groups(report))


def ack_chart(kind: str, rows: Sequence[AckRow], ident: str = "ack") -> str:
    """Time to acknowledge against the window for each row (a role or a family); `ident`
    names the chart's title and description, unique on a page that has several charts."""
    if not rows:
        return ""
    longest = max(max(_seconds(r.figures.p90_acknowledge), _seconds(r.window)) for r in rows)
    longest = longest or 1.0
    unit = (WIDTH - LABEL - 140) / (longest * 1.05)
    height = LEGEND + len(rows) * 30 + 10
    parts = [
        f'<svg role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" aria-labelledby="{ident}-title {ident}-desc" '
        'font-family="system-ui, sans-serif">',
        f'<title id="{ident}-title">Time to acknowledge against the window, by {kind}</title>',
        f'<desc id="{ident}-desc">For each {kind}: a bar to the median time from assignment to '
        "acknowledgement (red when over the window), a line on to the 90th percentile, and an "
        "orange mark at the acknowledge window. The figures are repeated at the right.</desc>",
        f'<g font-size="12" fill="#1b1b1b" transform="translate({LABEL},18)">'
        f'<rect width="18" height="10" y="-9" fill="{BAR}"/><text x="24">median</text>'
        f'<rect x="90" y="-4" width="18" height="2" fill="#1b1b1b"/><text x="114">to p90</text>'
        f'<rect x="178" y="-11" width="3" height="14" fill="{ACK_DUE}"/>'
        f'<text x="188">window</text>'
        f'<text x="{WIDTH - LABEL - 4}" text-anchor="end">median / window</text></g>',
    ]
    for index, row in enumerate(rows):
        parts.append(_ack_row(row, LEGEND + index * 30, unit))
    parts.append("</svg>")
    return "\n".join(parts)
