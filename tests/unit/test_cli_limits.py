"""Input past a limit is refused by the command line itself: one line, nothing sent (the URL
below has no server, so a request would fail differently)."""

from __future__ import annotations

from typer.testing import CliRunner

from services.cli.main import app
from tests.support import free_port


def test_a_two_megabyte_title_is_one_line_and_nothing_is_sent() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        app,
        [
            "incident",
            "log",
            "--type",
            "oes",
            "--title",
            "t" * 2_000_000,
            "--as",
            "renee.alvarez",
            "--nats-url",
            url,
        ],
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["error: --title is too long: 2,000,000 characters, the limit is 200"]


def test_an_attribute_key_past_the_limit_is_one_line() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        app,
        ["incident", "log", "--type", "oes", "--title", "T", "--attr", f"{'k' * 64}=v"]
        + ["--as", "renee.alvarez", "--nats-url", url],
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["error: --attr key is too long: 64 characters, the limit is 63"]
