"""The command line refuses input past a limit with one line before sending anything, and pages
lists: `--json` stays a list, and stderr says how many more and the command that shows them."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from schemas.limits import ATTRIBUTES_MAX, NOTE_MAX, TITLE_MAX
from tests.e2e.harness import Cli, log_incident, playbook_tasks, wait_for_tasks
from tests.e2e.test_refusals import assert_one_line_refusal

pytestmark = pytest.mark.e2e

LOG = ["incident", "log", "--type", "officer-involved-shooting", "--as", "renee.alvarez"]


def test_a_title_past_the_limit_is_one_line(cli: Cli) -> None:
    result = cli(*LOG, "--title", "t" * 100_000)
    assert_one_line_refusal(result, "--title", "100,000 characters", f"limit is {TITLE_MAX}")


def test_too_many_attributes_is_one_line(cli: Cli) -> None:
    attrs = [a for i in range(ATTRIBUTES_MAX + 1) for a in ("--attr", f"k{i}=v")]
    result = cli(*LOG, "--title", "Attributes", *attrs)
    assert_one_line_refusal(result, "too many --attr", str(ATTRIBUTES_MAX))


def test_a_note_past_the_limit_is_one_line(cli: Cli) -> None:
    result = cli(
        "task",
        "complete",
        "INC-ZZZZZZZZ.some-task",
        "--as",
        "dana.reyes",
        "--note",
        "n" * (NOTE_MAX + 1),
    )
    assert_one_line_refusal(result, "--note", f"limit is {NOTE_MAX:,}")


def test_a_page_past_the_most_is_one_line(cli: Cli) -> None:
    assert_one_line_refusal(cli("incident", "list", "--limit", "501"), "--limit", "500")


def _next_command(stderr: str) -> list[str]:
    line = next(x for x in stderr.splitlines() if "more; next page:" in x)
    return shlex.split(line.split("next page: ", 1)[1])


def test_task_list_pages_with_a_hint_and_json_stays_a_list(cli: Cli) -> None:
    incident_id = log_incident(cli, "Paging")
    everything = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    first = cli.ok("task", "list", "--incident", incident_id, "--limit", "5", "--json")
    listed: list[dict[str, Any]] = first.json()
    assert isinstance(listed, list) and len(listed) == 5
    assert f"{len(everything) - 5} more" in first.stderr
    command = _next_command(first.stderr)
    while True:
        assert command[:3] == ["pathways", "task", "list"]
        page = cli.ok(*command[1:])
        listed += page.json()
        if "more; next page:" not in page.stderr:
            break
        command = _next_command(page.stderr)
    assert [t["id"] for t in listed] == [t["id"] for t in everything]
    every = cli.json("task", "list", "--incident", incident_id, "--limit", "4", "--all")
    assert [t["id"] for t in every] == [t["id"] for t in everything]


def test_incident_list_says_how_many_more(cli: Cli) -> None:
    log_incident(cli, "One")
    log_incident(cli, "Two")
    result = cli.ok("incident", "list", "--limit", "1")
    assert "more; next page: pathways incident list --limit 1 --cursor" in result.stderr
