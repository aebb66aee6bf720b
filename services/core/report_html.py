"""The after-action report as one self-contained HTML file: inline CSS and SVG only (a
Content-Security-Policy forbids loading anything), a print stylesheet, and everything people
wrote escaped by Jinja2's autoescape after its control characters were made visible."""

from __future__ import annotations

from markupsafe import Markup

from schemas.report import ReviewReport
from services.core import access
from services.core.entry_rows import entry_rows
from services.core.report_charts import ack_groups, ack_svg, swimlane_svg
from services.core.report_figures import (
    AUDIENCES,
    GROUP_HEADINGS,
    TASK_HEADINGS,
    group_row,
    group_tables,
    no_plan_line,
    overall_facts,
    plan_lines,
    report_facts,
    task_row,
    withheld_line,
)
from services.core.review_html import environment, page


def report_html(report: ReviewReport) -> str:
    incident = report.incident
    tables = [
        (caption, (kind, *GROUP_HEADINGS), [group_row(n, g) for n, g in groups.items()])
        for caption, kind, groups in group_tables(report)
    ]
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            **page(incident, f"After-action report of {incident.incident_id}"),
            audience=AUDIENCES[report.audience],
            facts=report_facts(report),
            overall=overall_facts(report),
            # The charts are built from escaped text only (report_charts).
            swimlane=Markup(swimlane_svg(report)),
            ack_chart=Markup(ack_svg(report)),
            ack_kind=ack_groups(report)[0],
            group_tables=tables,
            task_headings=TASK_HEADINGS,
            task_rows=[task_row(t) for t in report.tasks],
            findings=plan_lines(report),
            no_plan=no_plan_line(report),
            withheld=withheld_line(report),
            rows=entry_rows(report.entries, incident, with_who=True),
            with_timeline=report.audience in access.AUDIENCES_NAMING_PEOPLE,
        )
    )
