from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from services.core.embedded import EmbeddedNats
from tests.support import free_port

# Services run in the test process (services.app.serve) include the gateway: it takes any free
# port rather than 8080, which this machine shares. Processes started by the end-to-end tests
# get no PATHWAYS_* variable from here (tests.e2e.harness.process_env) and an explicit --port.
os.environ.setdefault("PATHWAYS_PORT", "0")


@pytest.fixture(scope="session")
async def nats_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedNats]:
    """A real nats-server with JetStream, on a free port with a temporary store (its
    `data_dir`, for tests that look at what is written to disk)."""
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"), free_port())
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: EmbeddedNats) -> str:
    return nats_server.url
