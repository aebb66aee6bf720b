"""Running `pathways migrate` from the command line: connect, migrate, say what changed."""

from __future__ import annotations

import nats
from nats.js.errors import APIError

from services.core.broker import connect
from services.core.migrate import MigrationRefused, migrate, without_credentials


async def run_migrate(url: str, replicas: int) -> list[str]:
    """One line per stream and bucket; MigrationRefused, with one line, on what cannot be done."""
    nc = await connect(url, name="pathways-migrate")
    try:
        return await migrate(nc.jetstream(), replicas)
    except nats.errors.TimeoutError as exc:
        raise MigrationRefused(
            f"NATS at {without_credentials(url)} did not answer the JetStream API: is JetStream "
            "enabled, and is this a user allowed to manage streams (the admin user)?"
        ) from exc
    except APIError as exc:
        raise MigrationRefused(
            f"NATS at {without_credentials(url)} refused: {exc.description or exc}"
        ) from exc
    finally:
        await nc.close()
