"""What the CLI says is true: each message that once misled a user, corrected."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Cli

pytestmark = pytest.mark.e2e

LOG = ["incident", "log", "--type", "officer-involved-shooting", "--title", "x"]


def test_an_incident_below_a_playbooks_minimum_severity_says_so(cli: Cli) -> None:
    result = cli.ok(*LOG, "--severity", "low", "--as", "renee.alvarez")
    assert (
        "Playbook officer-involved-shooting starts at severity moderate or above; "
        "this incident is low, so nothing started." in result.stdout
    ), str(result)
    assert "pathways playbook trigger INC-" in result.stdout
    assert "No playbook" not in result.stdout


def test_an_incident_type_without_a_playbook_says_so(cli: Cli) -> None:
    result = cli.ok(
        "incident", "log", "--type", "lost-dog", "--title", "x", "--as", "renee.alvarez"
    )
    assert "No playbook is written for incident type lost-dog" in result.stdout, str(result)


@pytest.mark.parametrize("scale", ["nan", "inf", "0", "-1", "1001"])
def test_a_time_scale_out_of_range_names_what_is_allowed(cli: Cli, scale: str) -> None:
    result = cli(*LOG, "--exercise", "--time-scale", scale, "--as", "renee.alvarez")
    assert result.returncode == 1, str(result)
    assert result.error_lines == [
        "error: --time-scale must be a number above 0 and at most 1000 "
        f"(0.001: a day passes in 86 s), not {float(scale)!r}"
    ], str(result)


def test_logging_without_signing_in_says_how_to(cli: Cli) -> None:
    result = cli(*LOG)
    assert result.returncode == 1, str(result)
    [line] = result.error_lines
    assert "not signed in" in line and "pathways login" in line and "--as" in line, line
