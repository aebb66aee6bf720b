from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.core.embedded import EmbeddedNats
from tests.support import free_port


@pytest.fixture(scope="session")
async def nats_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A real nats-server with JetStream, on a free port with a temporary store."""
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"), free_port())
    await server.start()
    yield server.url
    await server.stop()
