from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import pytest
from nats.aio.client import Client
from pydantic import BaseModel

from schemas import subjects
from schemas.commands import GetTimeline, ListIncidents, ListPlaybooks, Reply
from services.app import SERVICES, load_runtime
from services.core.broker import connect
from services.core.library import load_library
from services.core.logging import configure_logging
from services.core.migrate import migrate
from services.core.rpc import ServiceUnavailable, call
from services.core.runtime import Runtime
from services.core.settings import LogFormat, Settings
from tests import support
from tests.support import FIXTURES, ROOT, eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def migrated(nats_url: str) -> str:
    """The test server with its streams and buckets set up, as `pathways migrate` does."""
    client = await connect(nats_url, name="tests-migrate")
    try:
        await migrate(client.jetstream())
    finally:
        await client.close()
    return nats_url


@pytest.fixture(scope="session")
async def runtime(migrated: str) -> AsyncIterator[Runtime]:
    """Every service running in this process against the real server, with the real library
    plus the test playbooks in tests/fixtures/playbooks."""
    settings = Settings(
        nats_url=migrated,
        playbooks_dir=ROOT / "playbooks",
        roster=ROOT / "rosters" / "example.yaml",
        ack_wait_seconds=2,
    )
    configure_logging(LogFormat.CONSOLE, "warning")
    rt = load_runtime(settings)
    rt.verifier = support.signing()[0].verifier
    rt.sealer = support.record_signing()[0]
    rt.library.update(load_library(FIXTURES / "playbooks", rt.roster))
    stop = asyncio.Event()
    running = support.Serving(rt, list(SERVICES), stop)
    await support.all_serving([running])
    await eventually(partial(_answering, migrated), timeout=30)
    yield rt
    stop.set()
    await running.task


async def _answering(url: str) -> bool:
    """Every service answers (its subscribers are bound), not merely connected."""
    client = await connect(url, name="tests-probe")
    try:
        for subject, query in (
            (subjects.QRY_PLAYBOOK_LIST, ListPlaybooks()),
            (subjects.QRY_INCIDENT_LIST, ListIncidents()),
            (subjects.QRY_TIMELINE, GetTimeline(incident_id="INC-00000000")),
        ):
            try:
                await call(client, subject, query, support.caller(query), timeout=2)
            except ServiceUnavailable:
                return False
        return True
    finally:
        await client.close()


@pytest.fixture(scope="session")
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await connect(nats_url, name="tests")
    yield client
    await client.close()


class Caller:
    def __init__(self, nc: Client) -> None:
        self.nc = nc

    async def __call__(
        self, subject: str, request: BaseModel, *, reader: str | None = None
    ) -> Reply:
        """Sent as the command's actor, signed in; a query read by `reader` (default: an
        auditor who sees everything)."""
        signed = support.caller(request, reader)
        return await call(self.nc, subject, request, signed, timeout=10)

    async def ok(self, subject: str, request: BaseModel, *, reader: str | None = None) -> Reply:
        reply = await self(subject, request, reader=reader)
        assert reply.ok, reply.error
        return reply


@pytest.fixture
def caller(nc: Client, runtime: Runtime) -> Caller:
    return Caller(nc)
