"""The real deploy/nats/accounts.conf: service users run, but cannot change a stream; the admin
user runs `pathways migrate`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from schemas.subjects import EVENTS_STREAM
from services.cli.migrating import run_migrate
from services.core.broker import NatsUnreachable, connect
from services.core.embedded import config_string, server_binary
from services.core.migrate import MigrationRefused, require_streams
from tests.support import ROOT, eventually, free_port

pytestmark = pytest.mark.integration

ACCOUNTS = ROOT / "deploy" / "nats" / "accounts.conf"
USERS = ("intake", "engine", "projector", "timeline", "cli", "admin")
SERVICES = ("intake", "engine", "projector", "timeline")


def password(user: str) -> str:
    return f"pw-test-{user}"


class Secured:
    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, user: str) -> str:
        return f"nats://{user}:{password(user)}@127.0.0.1:{self.port}"

    async def connect(self, user: str) -> Client:
        return await connect(self.url(user), name=f"tests-{user}")


def secured_config(port: int, directory: Path) -> str:
    return (
        f"listen: 127.0.0.1:{port}\n"
        f"jetstream {{ store_dir: {config_string(str(directory / 'js'))} }}\n"
        # nats-server reads an include relative to the including file, never absolute.
        f"include {config_string(os.path.relpath(ACCOUNTS, directory))}\n"
    )


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Secured]:
    """A nats-server whose users and permissions are those of deploy/nats/accounts.conf."""
    port = free_port()
    config = tmp_path / "server.conf"
    config.write_text(secured_config(port, tmp_path))
    env = {f"PATHWAYS_{user.upper()}_PASSWORD": password(user) for user in USERS}
    with (tmp_path / "server.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(server_binary()), "-c", str(config), env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Secured(port)

    async def up() -> bool:
        assert process.returncode is None, (tmp_path / "server.log").read_text()
        with contextlib.suppress(NatsUnreachable):
            await (await server.connect("admin")).close()
            return True
        return False

    try:
        await eventually(up, timeout=15)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def test_migrate_as_admin_then_no_service_user_can_change_the_events_stream(
    secured: Secured,
) -> None:
    lines = await run_migrate(secured.url("admin"), 1)
    assert all(line.endswith(": created") for line in lines), lines
    engine = await secured.connect("engine")
    try:
        js = engine.jetstream(timeout=1)
        await require_streams(js, secured.url("engine"), attempts=1)  # a service may start
        await js.publish("pw.evt.INC-PERMS001.incident.logged", b"{}")  # and write events
        before = await js.stream_info(EVENTS_STREAM)
        with pytest.raises(nats.errors.TimeoutError):  # denied: never answered
            await js.update_stream(replace(before.config, max_age=60.0))
        with pytest.raises(nats.errors.TimeoutError):
            await js.delete_stream(EVENTS_STREAM)
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_stream(name="PATHWAYS_ELSEWHERE", subjects=["elsewhere.>"])
        after = await js.stream_info(EVENTS_STREAM)
        assert not after.config.max_age
        assert after.state.messages == before.state.messages == 1
    finally:
        await engine.close()


@pytest.mark.parametrize("user", SERVICES)
async def test_pathways_migrate_as_a_service_user_is_refused_in_one_line(
    secured: Secured, user: str
) -> None:
    with pytest.raises(MigrationRefused) as refused:
        await run_migrate(secured.url(user), 1)
    message = str(refused.value)
    assert "may not manage streams" in message and "admin user" in message
    assert password(user) not in message
    admin = await secured.connect("admin")
    try:
        assert not await admin.jetstream().streams_info()  # nothing was created
    finally:
        await admin.close()
