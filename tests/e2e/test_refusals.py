"""A refused command is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.harness import Cli, CliResult, log_incident, playbook_tasks, wait_for_tasks
from tests.support import free_port

pytestmark = pytest.mark.e2e

Tasks = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def tasks(cli: Cli) -> Tasks:
    """A fresh incident's tasks, by key; nobody acts on them here."""
    incident_id = log_incident(cli, "Refusals")
    return {t["key"]: t for t in wait_for_tasks(cli, incident_id, len(playbook_tasks()))}


def assert_one_line_refusal(result: CliResult, *fragments: str) -> None:
    assert result.returncode != 0, str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert len(result.error_lines) == 1, str(result)
    line = result.error_lines[0]
    assert line.startswith("error: "), str(result)
    for fragment in fragments:
        assert fragment in line, str(result)
    assert result.stdout.strip() == "", str(result)


def first_assigned(tasks: Tasks) -> dict[str, Any]:
    return next(t for t in tasks.values() if t["status"] == "assigned")


def first_waiting(tasks: Tasks) -> dict[str, Any]:
    return next(t for t in tasks.values() if t["status"] == "waiting")


Case = Callable[[Tasks], tuple[list[str], list[str]]]


def someone_elses_task(tasks: Tasks) -> tuple[list[str], list[str]]:
    task = first_assigned(tasks)
    other = "dana.reyes" if task["assignee"] != "dana.reyes" else "marcus.bell"
    return (
        ["task", "ack", task["id"], "--as", other],
        [task["id"], f"assigned to {task['assignee']}", f"not to {other}"],
    )


def nobody_on_the_roster(tasks: Tasks) -> tuple[list[str], list[str]]:
    task = first_assigned(tasks)
    return (
        ["task", "ack", task["id"], "--as", "someone-else"],
        ["--as: no roster member someone-else"],
    )


def unknown_task(tasks: Tasks) -> tuple[list[str], list[str]]:
    return (
        ["task", "ack", "INC-ZZZZZZZZ.nothing", "--as", "someone-else", "--json"],
        ["no task INC-ZZZZZZZZ.nothing"],
    )


def malformed_task_id(tasks: Tasks) -> tuple[list[str], list[str]]:
    return (["task", "ack", "not a task id", "--as", "dana.reyes"], ["invalid task id"])


def waiting_task(tasks: Tasks) -> tuple[list[str], list[str]]:
    task = first_waiting(tasks)
    return (
        ["task", "ack", task["id"], "--as", task["assignee"]],
        [task["id"], "waiting on", *task["depends_on"]],
    )


def blank_decline_reason(tasks: Tasks) -> tuple[list[str], list[str]]:
    task = first_assigned(tasks)
    return (
        ["task", "decline", task["id"], "--as", task["assignee"], "--reason", "   "],
        ["needs a reason"],
    )


def unknown_incident_timeline(tasks: Tasks) -> tuple[list[str], list[str]]:
    return (["timeline", "INC-ZZZZZZZZ"], ["no incident INC-ZZZZZZZZ"])


@pytest.mark.parametrize(
    "case",
    [
        someone_elses_task,
        nobody_on_the_roster,
        unknown_task,
        malformed_task_id,
        waiting_task,
        blank_decline_reason,
        unknown_incident_timeline,
    ],
)
def test_a_refused_command_prints_one_error_line_and_exits_non_zero(
    cli: Cli, tasks: Tasks, case: Case
) -> None:
    argv, fragments = case(tasks)
    assert_one_line_refusal(cli(*argv), *fragments)


def test_a_refused_command_changes_nothing(cli: Cli, tasks: Tasks) -> None:
    task = first_assigned(tasks)
    cli("task", "ack", task["id"], "--as", "someone-else")
    listed = cli.json("task", "list", "--incident", task["incident"])
    after = next(t for t in listed if t["id"] == task["id"])
    assert after["status"] == "assigned"
    assert after["assignee"] == task["assignee"]


def test_decline_without_a_reason_is_a_usage_error_without_traceback(
    cli: Cli, tasks: Tasks
) -> None:
    task = first_assigned(tasks)
    result = cli("task", "decline", task["id"], "--as", task["assignee"])
    assert result.returncode == 2, str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert "--reason" in result.stderr, str(result)


@pytest.mark.parametrize(
    "argv",
    [
        ["task", "ack", "INC-ZZZZZZZZ.nothing", "--as", "dana.reyes"],
        ["incident", "log", "--type", "officer-involved-shooting", "--title", "x", "--as", "x.y"],
        ["task", "list"],
    ],
    ids=["task-ack", "incident-log", "task-list"],
)
def test_unreachable_nats_is_one_line_naming_the_url(argv: list[str]) -> None:
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    result = Cli(None)(*argv, "--nats-url", url)
    assert_one_line_refusal(result, f"cannot reach NATS at {url}")
