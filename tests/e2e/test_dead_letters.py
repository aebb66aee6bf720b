"""An operator lists dead letters and replays them once the cause is fixed, through the CLI,
against real service processes.

The fault is a real one: a `response.completed` for an incident the projector has never seen
cannot be projected, so it is redelivered, then dead-lettered. Logging the incident fixes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.base import incident_id_for, utc_now
from schemas.events import ResponseCompleted
from services.core.broker import connect
from services.core.deadletters import DeadLetterStore
from services.core.embedded import EmbeddedNats
from tests.e2e.harness import ROSTER, Cli, Service, process_env, up_ports
from tests.support import ROOT, free_port, request_id

pytestmark = pytest.mark.e2e


@dataclass
class Installation:
    nc: Client
    cli: Cli
    up: Service

    async def strand(self) -> str:
        """Record a response completed for an incident nobody logged yet; its request id."""
        request = request_id()
        incident_id = incident_id_for(request)
        event = ResponseCompleted(
            event_id=f"{incident_id}.response.completed", incident_id=incident_id,
            actor="engine", at=utc_now(), playbook_id="officer-involved-shooting",
            completed_tasks=0,
        )  # fmt: skip
        await self.nc.jetstream().publish(
            subjects.response_completed(incident_id), event.model_dump_json().encode(),
            stream=subjects.EVENTS_STREAM, headers={"Nats-Msg-Id": event.event_id},
        )  # fmt: skip
        return request

    async def fix(self, request: str) -> None:
        logged = await self.cli.run_async(
            "incident", "log", "--type", "officer-involved-shooting", "--title", "Stranded",
            "--manual", "--request-id", request, "--as", "renee.alvarez",
        )  # fmt: skip
        assert logged.returncode == 0, str(logged)

    async def letters(self, count: int) -> list[dict[str, Any]]:
        """`dead-letters list --json`, once there are `count` dead letters."""
        store = DeadLetterStore(self.nc.jetstream())
        for _ in range(100):
            if len(await store.dead()) >= count:
                break
            await asyncio.sleep(0.1)
        listed = await self.cli.run_async("admin", "dead-letters", "list", "--json")
        found: list[dict[str, Any]] = listed.json()
        assert len(found) == count, found
        return found


@pytest.fixture
async def installation(tmp_path: Path) -> AsyncIterator[Installation]:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    env = process_env(
        PATHWAYS_NATS_URL=server.url,
        PATHWAYS_PLAYBOOKS_DIR=str(ROOT / "playbooks"),
        PATHWAYS_ROSTER=str(ROSTER),
        PATHWAYS_RETRY_DELAYS="0.2,0.2",
    )
    up = Service("up", ["up", "--nats-url", server.url, *up_ports()], env, tmp_path)
    nc = await connect(server.url, name="e2e-dead-letters")
    try:
        await up.started()
        yield Installation(nc, Cli(server.url), up)
    finally:
        await nc.close()
        await asyncio.to_thread(up.stop)
        await server.stop()


async def test_list_shows_the_dead_letter_and_retry_resolves_it_once_fixed(
    installation: Installation,
) -> None:
    cli = installation.cli
    request = await installation.strand()
    [letter] = await installation.letters(1)
    incident_id = incident_id_for(request)
    assert letter["consumer"] == "projector"
    assert letter["subject"] == subjects.response_completed(incident_id)
    assert letter["deliveries"] == 3
    assert letter["error_type"] == "MissingIncident"
    [logged] = installation.up.logged("reaction_dead_lettered")
    assert (logged["consumer"], logged["deliveries"]) == ("projector", 3)

    text = await cli.run_async("admin", "dead-letters", "list")
    assert text.returncode == 0, str(text)
    assert all(len(line) <= 80 for line in text.stdout.splitlines()), text.stdout
    assert any(line.startswith(f"{letter['id']}  ") for line in text.stdout.splitlines())
    for field in ("projector", "3 deliveries", letter["subject"], "MissingIncident"):
        assert field in text.stdout

    await installation.fix(request)
    retried = await cli.run_async("admin", "dead-letters", "retry", letter["id"])
    assert retried.returncode == 0, str(retried)
    assert retried.stdout.strip() == f"{letter['id']} resolved: projector handled it."
    assert await installation.letters(0) == []
    assert len(installation.up.logged("dead_letter_resolved")) == 1

    again = await cli.run_async("admin", "dead-letters", "retry", letter["id"])
    assert again.returncode == 0, str(again)
    assert again.stdout.strip() == f"{letter['id']} is resolved already: nothing to retry."
    unknown = await cli.run_async("admin", "dead-letters", "retry", "DL-00000000")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: no dead letter DL-00000000"


async def test_retry_all_replays_every_dead_letter(installation: Installation) -> None:
    cli = installation.cli
    requests = [await installation.strand() for _ in range(2)]
    letters = await installation.letters(2)
    failed = await cli.run_async("admin", "dead-letters", "retry", "--all")
    assert failed.returncode == 1  # nothing fixed yet: both fail again
    assert failed.stdout.count("failed again: MissingIncident") == 2, str(failed)

    for request in requests:
        await installation.fix(request)
    retried = await cli.run_async("admin", "dead-letters", "retry", "--all")
    assert retried.returncode == 0, str(retried)
    assert sorted(retried.stdout.splitlines()) == sorted(
        f"{letter['id']} resolved: projector handled it." for letter in letters
    )
    assert await installation.letters(0) == []
