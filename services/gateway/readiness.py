"""What `/readyz` checks: that this process can do its work now. Each check is a name and an
async probe; more join the list as the gateway comes to depend on more (a readable key ring)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from services.core.logging import get_logger
from services.core.runtime import Runtime

log = get_logger(__name__)

# A probe that has not answered by then counts as failed: /readyz itself must answer promptly.
PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    probe: Callable[[], Awaitable[bool]]


def standard_checks(rt: Runtime) -> list[ReadinessCheck]:
    """NATS is connected (not reconnecting), and the runtime is attached to it: its streams and
    buckets were found, and the roster in force adopted (services.app starts the gateway only
    after both)."""

    async def nats_connected() -> bool:
        return rt.attached and rt.nc.is_connected

    async def runtime_attached() -> bool:
        return rt.attached

    return [
        ReadinessCheck("nats_connected", nats_connected),
        ReadinessCheck("runtime_attached", runtime_attached),
    ]


async def failing(checks: Sequence[ReadinessCheck]) -> list[str]:
    """The names of the checks that do not pass now (all are asked at once)."""
    results = await asyncio.gather(*(_passes(check) for check in checks))
    return [check.name for check, passed in zip(checks, results, strict=True) if not passed]


async def _passes(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check.probe(), PROBE_TIMEOUT)
    except TimeoutError:
        return False
    except Exception as exc:
        log.warning("readiness_check_failed", check=check.name, error=type(exc).__name__)
        return False
