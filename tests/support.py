"""Helpers shared by the test suites."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from services.core.embedded import free_port

__all__ = ["FIXTURES", "ROOT", "eventually", "free_port", "request_id"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

T = TypeVar("T")


def request_id() -> str:
    return uuid.uuid4().hex


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
