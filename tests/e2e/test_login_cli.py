"""`pathways login` trades a password for an API token, and the person commands then act over
HTTP as the signed-in account, without --as: the same output as the operator path, one line when
nobody is signed in or the token was revoked."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.api_support import PASSWORD, ApiStack, api_stack, tasks_of
from tests.e2e.harness import Cli, playbook_tasks

pytestmark = pytest.mark.e2e

AISHA = "aisha.grant"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("login")) as running:
        yield running


def person_cli(stack: ApiStack, config: Path) -> Cli:
    """A command line with its own config directory, pointed at the stack's API (its NATS is
    given too, so that only a missing token can send a command elsewhere)."""
    cli = Cli(stack.nats_url)
    cli.env["XDG_CONFIG_HOME"] = str(config)
    cli.env["PATHWAYS_URL"] = stack.base
    return cli


def a_task_for(stack: ApiStack, person: str) -> str:
    renee = stack.as_user("renee.alvarez")
    logged = renee.post("/incidents", {"incident_type": "officer-involved-shooting", "title": "t"})
    tasks = tasks_of(renee, logged["data"]["incident"]["incident_id"], len(playbook_tasks()))
    defusing: str = next(t["task_id"] for t in tasks if t["key"] == "peer-support-defusing")
    renee.post(f"/tasks/{defusing}/assign", {"to": person})
    return defusing


def answered(stack: ApiStack, route: str) -> list[dict[str, Any]]:
    """The gateway's access log lines for `route` (a template) answered with 200."""
    return [
        e
        for e in stack.service.logged("http_request")
        if (e.get("route"), e.get("status")) == (route, 200)
    ]


def test_login_then_ack_without_as(stack: ApiStack, tmp_path: Path) -> None:
    stack.add_user(AISHA)
    cli = person_cli(stack, tmp_path)
    signed = cli("login", "--username", AISHA, "--password-stdin", stdin=PASSWORD + "\n")
    assert signed.returncode == 0, str(signed)
    saved = tmp_path / "pathways" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert PASSWORD not in saved.read_text() and "pwt_" in saved.read_text()

    task_id = a_task_for(stack, AISHA)
    before = len(answered(stack, "/api/v1/tasks/{task_id}/acknowledge"))
    acked = cli.ok("task", "ack", task_id)
    assert acked.stdout.strip() == f"{task_id} acknowledged by {AISHA} (status acknowledged)."
    # Over HTTP, not as the operator over NATS.
    assert len(answered(stack, "/api/v1/tasks/{task_id}/acknowledge")) == before + 1
    started = cli.json("task", "start", task_id)
    assert set(started) == {"task", "changed", "notice"}
    assert (started["task"]["status"], started["changed"]) == ("in_progress", True)
    again = cli.ok("task", "start", task_id, "--request-id", "retry-0001")
    assert "was already started; nothing changed" in again.stdout
    listed = cli.json("task", "list", "--assignee", AISHA)
    assert task_id in [t["id"] for t in listed]
    assert cli.ok("inbox").returncode == 0


def test_without_a_token_or_as_a_command_says_how_to_sign_in(
    stack: ApiStack, tmp_path: Path
) -> None:
    cli = person_cli(stack, tmp_path)
    refused = cli("task", "ack", "INC-00000000.peer-support-defusing")
    assert refused.returncode == 1, str(refused)
    assert refused.error_lines == [
        "error: not signed in: run `pathways login` (or set PATHWAYS_TOKEN); with the example "
        "roster or in an exercise, --as PERSON acts for someone"
    ]  # fmt: skip
    wrong = cli("login", "--username", AISHA, "--password-stdin", stdin="not the password\n")
    assert wrong.returncode == 1 and wrong.error_lines == ["error: wrong username or password"]
    assert not (tmp_path / "pathways" / "credentials.json").exists()


def test_a_revoked_token_is_one_line(stack: ApiStack, tmp_path: Path) -> None:
    stack.add_user(AISHA)
    token = stack.new_token(AISHA)
    cli = person_cli(stack, tmp_path)
    cli.env["PATHWAYS_TOKEN"] = token
    task_id = a_task_for(stack, AISHA)
    assert cli.ok("task", "ack", task_id).returncode == 0
    stack.cli.ok("token", "revoke", token.split("_")[1])
    refused = cli("task", "start", task_id)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, str(refused)
    assert refused.error_lines == [
        "error: the API token from PATHWAYS_TOKEN was refused (revoked, or its account "
        "disabled): sign in again with `pathways login`"
    ]  # fmt: skip
