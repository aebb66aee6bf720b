"""The collector is paused while replays build their answers, and restarted after the last."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from services.core.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_it_restarts_when_the_last_overlapping_pause_ends() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the other replay is still building
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_it_restarts_after_a_replay_that_fails() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the stream went away")
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


async def test_concurrent_handlers_share_the_pause() -> None:
    both_in = asyncio.Barrier(2)
    states: list[bool] = []

    async def handler(hold: float) -> None:
        with collector_paused():
            await both_in.wait()
            await asyncio.sleep(hold)
            states.append(gc.isenabled())

    await asyncio.gather(handler(0.0), handler(0.05))
    assert states == [False, False] and gc.isenabled()
