"""Running `pathways migrate` from the command line: connect, migrate, say what changed."""

from __future__ import annotations

import asyncio
import contextlib

import nats
from nats.aio.client import Client
from nats.js.errors import APIError

from services.core.broker import ErrorCallback, NatsUnreachable, connect, without_credentials
from services.core.migrate import MigrationRefused, migrate

PERMISSIONS_VIOLATION = "permissions violation"


async def _connect_within(url: str, wait: float, on_error: ErrorCallback) -> Client:
    """Connect, trying again for up to `wait` seconds (containers start in any order)."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            return await connect(url, name="pathways-migrate", on_error=on_error)
        except NatsUnreachable:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(1.0)


async def run_migrate(url: str, replicas: int, wait: float = 0.0) -> list[str]:
    """One line per stream and bucket; MigrationRefused, with one line, on what cannot be done."""
    shown = without_credentials(url)
    denied: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def on_error(exc: Exception) -> None:
        # A denied JetStream API request is never answered: the server says so out of band.
        if PERMISSIONS_VIOLATION in str(exc).lower() and not denied.done():
            denied.set_result(str(exc))

    nc = await _connect_within(url, wait, on_error)
    work = asyncio.ensure_future(migrate(nc.jetstream(), replicas))
    try:
        watched: set[asyncio.Future[object]] = {work, denied}  # type: ignore[arg-type]
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            raise MigrationRefused(
                f"this NATS user may not manage streams on {shown}: "
                "run pathways migrate as the admin user (deploy/README.md)"
            )
        return work.result()
    except nats.errors.TimeoutError as exc:
        raise MigrationRefused(
            f"NATS at {shown} did not answer the JetStream API: is JetStream enabled?"
        ) from exc
    except APIError as exc:
        raise MigrationRefused(f"NATS at {shown} refused: {exc.description or exc}") from exc
    finally:
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        await nc.close()
