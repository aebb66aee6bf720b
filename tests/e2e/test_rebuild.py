"""`pathways admin rebuild` on a stream of 10,000 events, run as an operator would run it."""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.base import task_id_for
from schemas.enums import TaskStatus
from schemas.events import Event, TaskAcknowledged, TaskCreated, TaskStarted
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.migrate import migrate
from services.core.projections import entries
from tests.e2e.harness import PATHWAYS, Cli
from tests.support import ROOT, free_port
from tests.unit.factories import T0, a_task, an_incident

INCIDENTS = 100
TASKS_PER_INCIDENT = 33  # each created, acknowledged and started: 1 + 3 * 33 = 100 events
EVENTS = INCIDENTS * (1 + 3 * TASKS_PER_INCIDENT)


@pytest.fixture(scope="module")
async def loaded_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A server of its own, its stream holding exactly EVENTS events and nothing projected."""
    server = EmbeddedNats(tmp_path_factory.mktemp("rebuild"), free_port())
    await server.start()
    nc = await connect(server.url, name="tests")
    try:
        js = nc.jetstream()
        await migrate(js)
        await _append(js, list(_events()))
        yield server.url
    finally:
        await nc.close()
        await server.stop()


def _events() -> list[tuple[str, Event]]:
    found: list[tuple[str, Event]] = []
    for number in range(INCIDENTS):
        incident_id = f"INC-{number:08d}"
        logged = an_incident(incident_id=incident_id, event_id=f"{incident_id}.logged")
        found.append((subjects.incident_logged(incident_id), logged))
        for index in range(TASKS_PER_INCIDENT):
            key = f"task-{index}"
            task = a_task(task_id=task_id_for(incident_id, key), incident_id=incident_id, key=key)
            for kind, status in (
                (TaskCreated, TaskStatus.ASSIGNED),
                (TaskAcknowledged, TaskStatus.ACKNOWLEDGED),
                (TaskStarted, TaskStatus.IN_PROGRESS),
            ):
                event = kind(
                    event_id=f"{task.task_id}.{status.value}",
                    incident_id=incident_id,
                    actor="priya.nair",
                    at=T0,
                    task=task.model_copy(update={"status": status}),
                )
                found.append((subjects.task_event(incident_id, key, event.type[5:]), event))
    return found


async def _append(js: JetStreamContext, events: list[tuple[str, Event]]) -> None:
    for start in range(0, len(events), 500):
        await asyncio.gather(
            *(
                js.publish(subject, event.model_dump_json().encode())
                for subject, event in events[start : start + 500]
            )
        )


async def _records(url: str) -> dict[str, dict[str, object]]:
    nc = await connect(url, name="tests")
    try:
        found = {}
        for bucket in (subjects.TASKS_BUCKET, subjects.INCIDENTS_BUCKET):
            for entry in await entries(nc.jetstream(), bucket):
                assert entry.value is not None
                found[f"{bucket}/{entry.key}"] = json.loads(entry.value)
        return found
    finally:
        await nc.close()


async def test_rebuild_of_10000_events_reports_progress_and_finishes(loaded_url: str) -> None:
    started = time.monotonic()
    result = await Cli(loaded_url).run_async("admin", "rebuild", timeout=300)
    elapsed = time.monotonic() - started
    print(f"\nadmin rebuild of {EVENTS} events: {elapsed:.1f} s")
    assert result.returncode == 0, str(result)
    assert "replayed 0/10000 events (0%)" in result.stderr
    assert "replayed 10000/10000 events (100%)" in result.stderr
    assert f"Rebuilt the projections from {EVENTS} events" in result.stderr
    records = await _records(loaded_url)
    tasks = [r for k, r in records.items() if k.startswith(subjects.TASKS_BUCKET)]
    assert len(tasks) == INCIDENTS * TASKS_PER_INCIDENT
    assert {r["task"]["status"] for r in tasks} == {"in_progress"}  # type: ignore[index]
    assert len(records) - len(tasks) == INCIDENTS

    again = await Cli(loaded_url).run_async("admin", "rebuild", timeout=300)
    assert again.returncode == 0, str(again)
    assert await _records(loaded_url) == records


def test_rebuild_on_a_terminal_shows_a_progress_bar(loaded_url: str, tmp_path: Path) -> None:
    # `script` gives the command a terminal and copies what it drew to its own output.
    command = shlex.join([str(PATHWAYS), "admin", "rebuild", "--nats-url", loaded_url])
    drawn = subprocess.run(
        ["script", "-qec", command, str(tmp_path / "typescript")],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert drawn.returncode == 0, drawn.stdout + drawn.stderr
    assert "Replaying events" in drawn.stdout and "━" in drawn.stdout
    assert "replayed" not in drawn.stdout  # the plain lines are for logs, not terminals
