"""`pathways migrate` sets the streams up; a service started before it stops with one line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.core.embedded import EmbeddedNats
from tests.e2e.harness import Cli
from tests.support import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
async def bare(tmp_path: Path) -> AsyncIterator[str]:
    """A nats-server nobody has migrated."""
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    yield server.url
    await server.stop()


async def test_a_service_started_before_migrate_stops_with_one_line(bare: str) -> None:
    url_with_password = bare.replace("nats://", "nats://engine:s3cret-pw@")
    result = await Cli(bare).run_async("run", "engine", "--nats-url", url_with_password)
    assert result.returncode == 1, str(result)
    assert "Traceback" not in result.stderr, str(result)
    said = [line for line in result.error_lines if not line.startswith("{")]  # not the logs
    assert said == [f"error: streams are not set up on {bare}: run pathways migrate"], str(result)
    assert "s3cret-pw" not in result.stderr, str(result)


async def test_migrate_creates_everything_once_then_reports_it_unchanged(bare: str) -> None:
    cli = Cli(bare)
    first = await cli.run_async("migrate")
    assert first.returncode == 0, str(first)
    assert first.stdout.splitlines() == [
        "stream PATHWAYS_EVENTS: created",
        "stream PATHWAYS_TIMERS: created",
        "stream PATHWAYS_DEAD_LETTERS: created",
        "stream PATHWAYS_AUDIT: created",
        "bucket pw_tasks: created",
        "bucket pw_incidents: created",
        "bucket pw_index: created",
        "bucket pw_metrics: created",
        "bucket pw_playbooks: created",
        "bucket pw_inbox: created",
        "bucket pw_rosters: created",
        "bucket pw_accounts: created",
        "bucket pw_sessions: created",
        "bucket pw_throttle: created",
        "bucket pw_idempotency: created",
    ]
    again = await cli.run_async("migrate", "--replicas", "1")
    assert again.returncode == 0, str(again)
    unchanged = ["unchanged"] * len(first.stdout.splitlines())
    assert [line.rsplit(": ", 1)[1] for line in again.stdout.splitlines()] == unchanged


async def test_migrate_with_a_bad_replica_count_is_one_line(bare: str) -> None:
    result = await Cli(bare).run_async("migrate", "--replicas", "9")
    assert result.returncode == 1, str(result)
    assert len(result.error_lines) == 1 and "replicas" in result.error_lines[0], str(result)
