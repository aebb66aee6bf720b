"""Pausing Python's cyclic garbage collector while a replay builds what it answers.

A replay (the timeline, the after-action report) makes hundreds of thousands of objects, every
one of them alive until the answer is sent: the events, their snapshots, the entries, the rows.
The collector, counting allocations, would walk them again and again while they are built and
find nothing to free; for a long incident that is a seventh of the work. Everything they hold
is freed by reference counting once the answer is sent, and what cycles they leave are collected
as soon as the collector runs again. Reference counting works throughout, so memory that is not
in a cycle is freed as usual meanwhile.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Handlers run concurrently on one event loop: the collector restarts when the last one ends.
_pausing = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    global _pausing
    if _pausing == 0 and not gc.isenabled():
        yield  # Paused by someone else (a test, a profiler): theirs to restart.
        return
    _pausing += 1
    gc.disable()
    try:
        yield
    finally:
        _pausing -= 1
        if _pausing == 0:
            gc.enable()
