"""Failed sign-ins counted per username and per client, in `pw_throttle`.

Five failures for one username, or thirty from one client, within 15 minutes of the first, and
further attempts are refused unchecked until the window ends (429 with Retry-After). Counters
are changed by compare-and-swap, so gateway replicas count together. Their keys are HMACs of the
username and of the client's address under the console's key: the bucket never holds either.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from nats.js.kv import KeyValue

from schemas.base import utc_now
from schemas.sessions import FailureCount
from services.core.records import ATTEMPTS, ChangedTooFast, Records

WINDOW = timedelta(minutes=15)  # the bucket's time to live
PER_USERNAME = 5
PER_CLIENT = 30


@dataclass(frozen=True)
class Counter:
    key: str
    limit: int


class Throttle:
    def __init__(
        self,
        kv: KeyValue,
        key: bytes,
        per_username: int = PER_USERNAME,
        per_client: int = PER_CLIENT,
    ) -> None:
        self._records = Records(kv)
        self._key = key
        self.per_username = per_username
        self.per_client = per_client

    def _name(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}.{digest}"

    def counters(self, username: str, client: str) -> tuple[Counter, Counter]:
        return (
            Counter(self._name("user", username.strip().lower()), self.per_username),
            Counter(self._name("client", client), self.per_client),
        )

    async def retry_after(
        self, username: str, client: str, now: datetime | None = None
    ) -> int | None:
        """Seconds until an attempt may be made again; None when it may be made now."""
        now = now or utc_now()
        waits = [await self._wait(counter, now) for counter in self.counters(username, client)]
        return max((wait for wait in waits if wait is not None), default=None)

    async def _wait(self, counter: Counter, now: datetime) -> int | None:
        found = await self._records.read(counter.key)
        if found is None:
            return None
        count = FailureCount.model_validate_json(found[0])
        ends = count.since + WINDOW
        if count.failures < counter.limit or ends <= now:
            return None
        return max(1, math.ceil((ends - now).total_seconds()))

    async def failed(self, username: str, client: str, now: datetime | None = None) -> None:
        now = now or utc_now()
        for counter in self.counters(username, client):
            await self._count(counter.key, now)

    async def _count(self, key: str, now: datetime) -> None:
        def counted(count: FailureCount) -> FailureCount:
            if count.since + WINDOW <= now:  # a new window
                return FailureCount(failures=1, since=now)
            return count.model_copy(update={"failures": count.failures + 1})

        for _ in range(ATTEMPTS):
            if await self._records.create(key, FailureCount(failures=1, since=now)):
                return
            if await self._records.change(key, FailureCount, counted) is not None:
                return
            # Expired between the create and the change: create again.
        raise ChangedTooFast("the sign-in counters are changing too fast; try again")

    async def succeeded(self, username: str, client: str) -> None:
        """A right password clears the username's failures (not the client's: one client
        guessing at many accounts stays counted)."""
        await self._records.kv.delete(self.counters(username, client)[0].key)
