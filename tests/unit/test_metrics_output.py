"""`pathways review metrics` as people read it: a table under 80 columns, CSV with one row per
group, JSON that reads back as the reply; a bad --since or --type is one line and exit 2."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from schemas.metrics import MetricsReply
from services.cli.main import app
from services.core.metrics import incident_metrics
from services.core.metrics_formats import metrics_csv, metrics_json, metrics_lines, short
from tests.support import free_port
from tests.unit.factories import T0
from tests.unit.test_metrics import NOW, families, story


def reply() -> MetricsReply:
    return MetricsReply(
        since=T0 - timedelta(days=90),
        as_of=NOW,
        metrics=incident_metrics(story(), NOW, families).aggregates,
    )


def test_the_table_fits_in_80_columns_and_names_every_group() -> None:
    lines = metrics_lines(reply())
    assert all(len(line) < 80 for line in lines), max(lines, key=len)
    text = "\n".join(lines)
    assert "Response metrics: 1 incident, 5 tasks" in text
    for group in ("all tasks", "victim_advocate", "command", "immediate", "(no phase)"):
        assert group in text
    assert "Follow-ups: 1 done, 1 overdue, 1 scheduled." in text
    overall = next(line for line in lines if line.startswith("all tasks"))
    # Acknowledged after 45m, 1h, 2h; completed after 2h, 20h; 3 of 8 windows met.
    assert overall.split() == ["all", "tasks", "5", "1h00m", "2h00m", "2h00m", "20h00m"] + [
        "38%",
        "8",
        "2",
        "1",
        "1",
        "1",
    ]


def test_csv_has_a_row_per_group_and_the_follow_ups() -> None:
    rows = list(csv.DictReader(io.StringIO(metrics_csv(reply()))))
    overall = rows[0]
    assert (overall["group_by"], overall["tasks"], overall["windows_met"]) == ("overall", "5", "3")
    assert overall["median_acknowledge_s"] == str(60 * 60)
    assert {(r["group_by"], r["group"]) for r in rows} >= {
        ("role", "command_staff"),
        ("family", "victim_advocate"),
        ("phase", "immediate"),
        ("follow_ups", "overdue"),
    }


def test_json_reads_back_as_the_reply() -> None:
    assert MetricsReply.model_validate_json(metrics_json(reply())) == reply()


def test_durations_are_short() -> None:
    assert [short(timedelta(seconds=s)) for s in (5, 600, 3900, 93_600, 9_000_000)] == [
        "5s",
        "10m",
        "1h05m",
        "1d02h",
        "104d",
    ]
    assert short(None) == "-"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--since", "ninety"], "error: --since 'ninety' is neither a span nor a time"),
        (["--type", "Not A Type"], "error: --type 'Not A Type' is not an incident type"),
        (["--json", "--csv"], "error: --json and --csv ask for different formats"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(arguments: list[str], expected: str) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["review", "metrics", *arguments, "--nats-url", url])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(expected), result.output
