"""Records kept as JSON in a key-value bucket: created only where no record is, changed only
by compare-and-swap, so concurrent writers (two replicas, a service and an operator) never
overwrite each other; the one that loses reads again and decides again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas.base import Contract

ATTEMPTS = 5
M = TypeVar("M", bound=Contract)


class ChangedTooFast(Exception):
    pass


class Records:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def read(self, key: str) -> tuple[bytes, int] | None:
        """The value and its revision; None when there is none (never written, or deleted)."""
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:  # also a deleted or purged key
            return None
        if not entry.value:
            return None
        return entry.value, entry.revision or 0

    async def create(self, key: str, record: Contract) -> bool:
        """Write `record` unless the key holds one already (then False)."""
        try:
            await self.kv.create(key, record.model_dump_json().encode())
        except KeyWrongLastSequenceError:
            return False
        except KeyNotFoundError:
            # nats-py reads the key back after a refused create; on a cluster that read may
            # reach a replica that has not applied the winning write yet.
            return False
        return True

    async def change(
        self, key: str, model: type[M], change: Callable[[M], M | None]
    ) -> tuple[M, bool] | None:
        """Apply `change` (returning None: nothing to change) with compare-and-swap.
        (the record after, whether it changed); None when there is no record."""
        for _ in range(ATTEMPTS):
            found = await self.read(key)
            if found is None:
                return None
            before = model.model_validate_json(found[0])
            after = change(before)
            if after is None:
                return before, False
            try:
                await self.kv.update(key, after.model_dump_json().encode(), last=found[1])
            except KeyWrongLastSequenceError:
                continue
            return after, True
        raise ChangedTooFast(f"{key} is changing too fast; try again")
