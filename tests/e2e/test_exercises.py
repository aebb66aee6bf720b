"""Every library playbook runs end to end as a tabletop exercise, from the CLI."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml

from tests.e2e.harness import Cli
from tests.support import ROOT

pytestmark = pytest.mark.e2e

LIBRARY = {
    p.stem: yaml.safe_load(p.read_text()) for p in sorted((ROOT / "playbooks").glob("*.yaml"))
}
TIME_SCALE = "0.001"  # a day passes in 86 seconds
ACTIONABLE = ("assigned", "acknowledged", "in_progress")
ROUNDS = 12


async def work_every_open_task(cli: Cli, tasks: list[dict[str, Any]]) -> None:
    """Each assignee completes their open tasks, a few people at a time. At this time scale
    acknowledgements are soon overdue and escalation hands tasks on: one that moved to someone
    else since it was read is theirs to complete in the next round."""
    gate = asyncio.Semaphore(4)

    async def complete(task: dict[str, Any]) -> None:
        async with gate:
            done = await cli.run_async(
                "task", "complete", task["id"], "--as", task["assignee"], "--note", "Drill"
            )
        moved = "is assigned to" in done.stderr and f"not to {task['assignee']}" in done.stderr
        assert done.returncode == 0 or moved, str(done)

    await asyncio.gather(*(complete(t) for t in tasks if t["status"] in ACTIONABLE))


@pytest.mark.parametrize("name", LIBRARY)
async def test_exercise_of_library_playbook_completes_end_to_end(cli: Cli, name: str) -> None:
    book = LIBRARY[name]
    logged = (
        await cli.run_async(
            "incident",
            "log",
            "--type",
            book["triggers"]["incident_types"][0],
            "--title",
            f"Tabletop: {book['title']}",
            "--exercise",
            "--time-scale",
            TIME_SCALE,
            "--as",
            "renee.alvarez",
            "--json",
        )
    ).json()
    incident_id = logged["incident"]["id"]
    assert logged["incident"]["exercise"] is True
    assert logged["automatic_playbook"] == book["id"]

    for _ in range(ROUNDS):
        await asyncio.sleep(0.3)  # let the engine release what the last round unlocked
        shown = (await cli.run_async("incident", "show", incident_id, "--json")).json()
        if shown["status"] == "response_complete":
            break
        assert shown["tasks"], f"no tasks for {incident_id}"
        await work_every_open_task(cli, shown["tasks"])
    else:
        raise AssertionError(f"{book['id']} did not complete: {shown['tasks']}")

    assert all(t["exercise"] for t in shown["tasks"])
    required = [t for t in shown["tasks"] if t["required"]]
    assert all(t["status"] in ("completed", "skipped") for t in required)
    timeline = await cli.run_async("timeline", incident_id)
    assert "EXERCISE (time scale 0.001)" in timeline.stdout
    assert "Response complete" in timeline.stdout
