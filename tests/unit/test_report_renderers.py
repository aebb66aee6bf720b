"""The after-action report's renderers: one self-contained HTML file (no URL of any kind, charts
with titles and descriptions, tables with captions, the exercise marked on every printed page),
and Markdown and JSON that say the same."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from schemas.report import Audience, ReviewReport
from services.core import access
from services.core.report_charts import (
    AckRow,
    ack_chart,
    ack_svg,
    swimlane_svg,
    tick_label,
)
from services.core.report_figures import duration, group_row, task_row
from services.core.report_html import report_html
from services.core.report_text import report_document, report_markdown
from services.core.timeline_formats import md
from tests.unit.report_samples import M, a_report

URL_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "formaction", "data", "poster"}


class _Page(HTMLParser):
    """Every attribute that could load something, every stylesheet and element seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.styles: list[str] = []
        self.tags: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in URL_ATTRIBUTES:
                self.links.append(f"{name}={value}")
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.mark.parametrize("audience", list(Audience))
def test_the_html_loads_nothing_from_anywhere(audience: Audience) -> None:
    html = report_html(a_report(audience))
    page = parsed(html)
    assert page.links == []
    assert not any("url(" in style or "@import" in style for style in page.styles)
    assert {"script", "img", "link", "iframe", "object", "embed"}.isdisjoint(page.tags)
    assert re.search(r"\b(?:https?|ftp|file|data):", html) is None
    assert "default-src 'none'" in html


def test_people_s_words_are_escaped_and_the_charts_are_inline_svg() -> None:
    html = report_html(a_report())
    assert "<b>Riverside</b>" not in html and "&lt;b&gt;Riverside&lt;/b&gt;" in html
    assert html.count("<svg ") == 2


def test_each_chart_and_table_says_what_it_is() -> None:
    html = report_html(a_report())
    for svg in re.findall(r"<svg .*?</svg>", html, re.S):
        labelled = re.search(r'aria-labelledby="(\S+) (\S+)"', svg)
        assert labelled is not None and 'role="img"' in svg
        assert f'<title id="{labelled[1]}">' in svg and f'<desc id="{labelled[2]}">' in svg
    tables = re.findall(r"<table.*?</table>", html, re.S)
    assert tables and all("<caption>" in table for table in tables)
    assert all(f"<h{n}" in html for n in (1, 2))


def test_an_exercise_is_marked_on_every_printed_page_and_a_real_incident_is_not() -> None:
    exercise = report_html(a_report(exercise=True))
    assert re.search(r"@page\s*{\s*@top-center\s*{\s*content:\s*\"EXERCISE", exercise)
    assert "EXERCISE: not a real incident" in exercise.split("<body>")[1]
    real = report_html(a_report(exercise=False))
    assert "EXERCISE" not in real and "@top-center" not in real
    assert report_markdown(a_report(exercise=True)).count("**EXERCISE: not a real incident.**") == 2
    assert "EXERCISE" not in report_markdown(a_report(exercise=False))


def test_the_print_stylesheet_breaks_pages_and_has_no_dark_background() -> None:
    html = report_html(a_report())
    printed = html[html.index("@media print") :]
    assert "break-before: page" in printed and "break-inside: avoid" in printed
    for colour in re.findall(r"(?:background|fill)(?:-color)?:\s*#([0-9a-f]{6})", html):
        assert sum(int(colour[i : i + 2], 16) for i in (0, 2, 4)) > 3 * 200, colour
    for shade in re.findall(r'<rect x="0" [^>]*fill="#([0-9a-f]{6})"', html):
        assert sum(int(shade[i : i + 2], 16) for i in (0, 2, 4)) > 3 * 230, shade


@pytest.mark.parametrize("audience", list(Audience))
def test_markdown_and_json_carry_what_the_html_carries(audience: Audience) -> None:
    report = a_report(audience)
    html, markdown, document = report_html(report), report_markdown(report), report_document(report)
    for task in report.tasks:
        row = task_row(task)
        assert all(md(cell) in markdown for cell in row), row
        assert all(cell.replace("<", "&lt;").replace(">", "&gt;") in html for cell in row)
    for name, group in (report.by_family | report.by_phase).items():
        assert "| " + " | ".join(md(c) for c in group_row(name, group)) + " |" in markdown
    # The public report has no timeline: its entries name people (services/core/access.py).
    with_timeline = audience in access.AUDIENCES_NAMING_PEOPLE
    for entry in report.entries:
        assert (entry.text in markdown and entry.text in html) == with_timeline
    assert [t["key"] for t in document["tasks"]] == [t.key for t in report.tasks]
    assert document["overall"]["median_acknowledge"] == 300.0
    assert document["overall"]["share_met"] == pytest.approx(0.5)
    assert [e["elapsed_seconds"] for e in document["entries"]] == [0.0, 300.0, 1860.0]


def test_the_public_report_has_no_table_by_role_and_compares_families() -> None:
    public = report_html(a_report(Audience.PUBLIC))
    assert "Timings by role<" not in public and "Timings by role family" in public
    assert "by role family</title>" in public
    assert "Timings by role<" in report_html(a_report(Audience.COMMAND))


def test_the_swimlane_draws_every_task_but_the_skipped_with_its_marks() -> None:
    report = a_report()
    svg = swimlane_svg(report)
    drawn = [t for t in report.tasks if t.status.value != "skipped"]
    assert svg.count("<g><title>") == len(drawn)
    assert "language-line" not in svg  # skipped: never assigned, nothing to draw
    assert svg.count('fill="#c0261c"') == 2 + 1  # the two escalation steps, and the legend
    assert svg.count("<circle") == sum(1 for t in drawn if t.acknowledged_at) + 1  # + legend
    lanes = re.findall(r'font-weight="700" fill="#1b1b1b">([^<]*)<', svg)
    assert lanes == sorted({t.role for t in drawn})


def test_the_acknowledgement_chart_shows_each_role_against_its_window() -> None:
    svg = ack_svg(a_report())
    for role in ("community_liaison", "peer_support", "public_information"):
        assert f"{role}: median 5m 00s, p90 29m 00s, window 15m 00s (within the window)" in svg


def test_a_chart_of_figures_across_incidents_compares_with_their_median_window() -> None:
    """The metrics across incidents have no tasks to take windows from: each group's median
    window is in its figures; a chart of its own names its title apart from another chart on
    the same page."""
    report = a_report(Audience.FULL)
    rows = [
        AckRow(n, g.model_copy(update={"median_acknowledge_window": 15 * M}), 15 * M)
        for n, g in report.by_role.items()
    ]
    svg = ack_chart("role", rows, "by-role")
    assert 'aria-labelledby="by-role-title by-role-desc"' in svg and 'id="ack-title"' not in svg
    assert "community_liaison: median 5m 00s, p90 29m 00s, window 15m 00s (within" in svg
    assert ack_chart("role", [], "by-role") == ""


def test_durations_and_axis_labels_read_plainly() -> None:
    assert duration(M / 200) == "0.3s" and duration(M / 16) == "3.8s"
    assert [duration(x) for x in (None, 45 * M / 60, 12 * M + 5 * M / 60, 200 * M, 3000 * M)] == [
        "–",
        "45s",
        "12m 05s",
        "3h 20m",
        "2d 02h",
    ]
    assert tick_label(90, 30) == "T+1:30" and tick_label(5400, 1800) == "T+01:30"
    assert tick_label(90000, 86400) == "T+1d 01:00"


def test_findings_and_actions_appear_once_recorded() -> None:
    planned = a_report().model_copy(
        update={"findings": ({"kind": "strength", "text": "Briefing on time"},)}
    )
    assert "Finding: kind: strength; text: Briefing on time" in report_html(planned)
    assert "None recorded yet." in report_html(a_report())
    assert isinstance(planned, ReviewReport)


def test_the_record_digest_is_in_every_format_when_the_record_is_sealed() -> None:
    sealed = a_report().model_copy(update={"record_digest": "sha256:0f1e2d"})
    assert "sha256:0f1e2d" in report_html(sealed) and "sha256:0f1e2d" in report_markdown(sealed)
    assert report_document(sealed)["record_digest"] == "sha256:0f1e2d"
    assert "not sealed (no digest)" in report_html(a_report())
