"""Helpers shared by the test suites."""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import BaseModel

from schemas.commands import Command, ListInbox
from schemas.principals import AccessRole, Principal, Via
from schemas.roster import Roster
from services.core.assertions import Signer, create_key_pair, key_pair_in, read_signer
from services.core.embedded import free_port
from services.core.library import load_roster
from services.core.rpc import Caller
from services.core.runtime import Runtime
from services.core.sealing import Keyring
from services.gateway.console_keys import create_console_key

__all__ = [
    "Serving",
    "all_serving",
    "FIXTURES",
    "ROOT",
    "caller",
    "eventually",
    "example_roster",
    "free_port",
    "keyring",
    "principal_for",
    "raw_request",
    "request_id",
    "sealing_keys",
    "signing",
    "with_key",
]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

T = TypeVar("T")


def request_id() -> str:
    return uuid.uuid4().hex


class Serving:
    """Services started with `services.app.serve`, and whether they have said they serve:
    `on_started` comes once every subscriber is bound, which `Runtime.attached` (set before
    the broker starts) does not promise."""

    def __init__(self, rt: Runtime, names: list[str], stop: asyncio.Event) -> None:
        from services.app import serve  # the app imports everything; only tests that run it pay

        self.rt = rt
        self.started = asyncio.Event()
        self.task = asyncio.create_task(serve(rt, names, stop, on_started=self.started.set))

    async def ready(self) -> bool:
        if self.task.done():
            self.task.result()  # raises what stopped it
            raise AssertionError("the services stopped before they started")
        return self.started.is_set()


async def all_serving(running: list[Serving], timeout: float = 30.0) -> None:
    async def ready() -> bool:
        return all([await each.ready() for each in running])

    await eventually(ready, timeout=timeout, what="every service subscribed")


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str | None = None,
) -> T:
    """Poll until `probe` returns something other than None/False; fail after `timeout`,
    naming `what` was waited for."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value is not None and value is not False:
            return value
        if loop.time() > deadline:
            if what is not None:
                raise AssertionError(f"{what}: not within {timeout:g}s")
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@functools.cache
def sealing_keys() -> Path:
    """The session's key directory for restricted text the tests seal (0700, as mkdtemp makes
    it), apart from any data directory."""
    return Path(tempfile.mkdtemp(prefix="pathways-sealing-"))


def keyring() -> Keyring:
    return Keyring(sealing_keys(), create_missing=True)


@functools.cache
def example_roster() -> Roster:
    return load_roster(ROOT / "rosters" / "example.yaml")


@functools.cache
def console_key() -> dict[str, str]:
    """One console key for the whole test session (the gateway's cookies and form tokens), and
    the setting that gives it to the processes the tests start."""
    path = Path(tempfile.mkdtemp(prefix="pathways-console-")) / "console.key"
    create_console_key(path)
    return {"PATHWAYS_CONSOLE_KEY_FILE": str(path)}


@functools.cache
def signing() -> tuple[Signer, dict[str, str]]:
    """One key pair for the whole test session: the signer, and the PATHWAYS_* settings that
    make processes the tests start verify (services) and sign (the command line) with it."""
    inherited = {k: os.environ.get(k, "") for k in KEY_SETTINGS}
    if all(inherited.values()):  # a process started by one that made the pair (benchmarks)
        return read_signer(Path(inherited["PATHWAYS_PRINCIPAL_KEY_FILE"])), inherited
    return key_pair_in(Path(tempfile.mkdtemp(prefix="pathways-keys-")))


KEY_SETTINGS = ("PATHWAYS_PRINCIPAL_KEY_FILE", "PATHWAYS_PRINCIPAL_PUBLIC_KEY_FILE")


@functools.cache
def record_signing() -> tuple[Signer, Path]:
    """One record key pair for the whole session: the signer the in-process services seal
    with, and the public key file `pathways timeline verify --key` checks with."""
    directory = Path(tempfile.mkdtemp(prefix="pathways-record-"))
    create_key_pair(directory / "record.key", directory / "record.pub")
    return read_signer(directory / "record.key"), directory / "record.pub"


# Reads as an account granted reviewer and admin: sees every task and the roster's channels.
AUDITOR = Principal(
    account="auditor", via=Via.TOKEN, grants=frozenset({AccessRole.REVIEWER, AccessRole.ADMIN})
)


def principal_for(request: BaseModel, reader: str | None = None) -> Principal:
    """A command's actor signed in as themselves; a query read by `reader`, else the auditor."""
    if reader is None and isinstance(request, ListInbox):
        reader = request.person  # one reads one's own inbox
    person = request.actor if isinstance(request, Command) else reader
    if person is None:
        return AUDITOR
    return Principal(account=person, person=person, via=Via.TOKEN)


def caller(request: BaseModel, reader: str | None = None) -> Caller:
    return Caller(signing()[0], principal_for(request, reader))


def with_key(rt: Runtime) -> Runtime:
    """A runtime whose services verify principals with the session's key."""
    rt.verifier = signing()[0].verifier
    return rt


async def raw_request(
    nc: Client, subject: str, body: bytes, principal: Principal = AUDITOR, timeout: float = 10.0
) -> Msg:
    """Send `body` as it is (even malformed), signed for `principal`."""
    headers = signing()[0].headers(principal, subject, body)
    return await nc.request(subject, body, timeout=timeout, headers=headers)
