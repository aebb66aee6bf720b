"""Where a connection's requests are answered: one wildcard subscription per connection, each
request's replies told apart by the last token of its reply subject.

nats-py's `request` does the same, but hands over the first message to a reply subject and drops
the rest, and a reply in parts (services.core.reply_parts) is several messages. A subscription
of each request's own would do, at a price: subscribing and unsubscribing on every request
doubled the transport's cost of 50 requests in flight (a measurement on this machine), which the
shared subscription avoids, as `request` does.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nats.aio.client import Client
from nats.aio.msg import Msg


class Replies:
    """The messages sent to one request's reply subject, in the order they arrive."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self._arrived: asyncio.Queue[Msg] = asyncio.Queue()

    def put(self, msg: Msg) -> None:
        self._arrived.put_nowait(msg)

    async def next(self, timeout: float) -> Msg:
        """The next message; TimeoutError when none comes within `timeout`."""
        async with asyncio.timeout(timeout):
            return await self._arrived.get()


class ReplyInbox:
    # It holds no reference to its connection, which the registry below keys weakly.
    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._tokens = itertools.count(1)
        self._waiting: dict[str, Replies] = {}
        self._subscribed = False
        self._subscribing = asyncio.Lock()

    async def _route(self, msg: Msg) -> None:
        # Anything else, such as a late part of a request given up on, is dropped.
        waiting = self._waiting.get(msg.subject[len(self._prefix) :])
        if waiting is not None:
            waiting.put(msg)

    async def _subscribe(self, nc: Client) -> None:
        async with self._subscribing:
            if not self._subscribed:
                await nc.subscribe(f"{self._prefix}*", cb=self._route)
                self._subscribed = True

    @asynccontextmanager
    async def expecting(self, nc: Client) -> AsyncIterator[Replies]:
        """A reply subject for one request, and what arrives on it until the block ends."""
        if not self._subscribed:
            await self._subscribe(nc)
        token = str(next(self._tokens))
        replies = self._waiting[token] = Replies(self._prefix + token)
        try:
            yield replies
        finally:
            del self._waiting[token]


_inboxes: weakref.WeakKeyDictionary[Client, ReplyInbox] = weakref.WeakKeyDictionary()


def reply_inbox(nc: Client) -> ReplyInbox:
    """The connection's reply inbox (`_INBOX.<unique>.*`, within the `_INBOX.>` every
    requester may subscribe to), made on its first request."""
    inbox = _inboxes.get(nc)
    if inbox is None:
        inbox = _inboxes[nc] = ReplyInbox(f"{nc.new_inbox()}.")
    return inbox
