"""Running the event loop: uvloop where it is installed (Linux and macOS), asyncio elsewhere.
Services spend most of their time in the loop's I/O path, where uvloop is markedly cheaper."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # pragma: no cover - Windows
    uvloop = None  # type: ignore[assignment]


def run(work: Coroutine[Any, Any, T]) -> T:
    if uvloop is not None:
        return uvloop.run(work)
    return asyncio.run(work)
