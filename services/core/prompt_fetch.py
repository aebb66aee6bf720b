"""Pull consumers that hand an event to its reaction as soon as it arrives.

nats-py's `fetch(batch=N, timeout=T)`, when nothing is waiting, may end in a lingering pull
request for N messages; once the first one arrives it keeps waiting for the other N - 1 until
the request expires, up to T after the fetch began. An event that arrives on its own can then
sit in the client for seconds before its reaction runs. Seen on a loaded machine: a task's
completion reached the projector 2.4 and 3.8 s after it was stored, and two consumers received
the same event 4.6 s late, both at the end of their fetch's 5 s.

So every pull subscription the services' broker makes fetches in two steps: wait for one
message (nats-py returns a single-message fetch the moment it arrives), then, if the server says
more are waiting, take up to that many with a short follow-on fetch, so a backlog still comes in
batches and an event on its own is handed over at once (measured:
5,000 queued events drained as fast as with one 64-message fetch, three times faster than one
message per fetch).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import NotJSMessageError
from nats.js import JetStreamContext

# The longest the follow-on fetch waits for what the server said was waiting (replicas sharing
# the consumer may take some first). What arrives after it gives up stays in the subscription's
# queue and comes with the next fetch: a short wait costs batching, never a message.
FOLLOW_ON_SECONDS = 0.02

Fetch = Callable[..., Awaitable[list[Msg]]]


def prompt(fetch: Fetch) -> Fetch:
    """`fetch` (a pull subscription's), made to return as soon as the first message is in."""

    async def fetch_promptly(
        batch: int = 1, timeout: float | None = 5, heartbeat: float | None = None
    ) -> list[Msg]:
        first = await fetch(1, timeout, heartbeat)
        # The server says with each message how many more wait for the consumer: ask for no more
        # than that, so a fetch neither lingers for messages that are not there nor, when there
        # are none, delays the one in hand.
        waiting = min(batch - 1, _pending_after(first))
        if waiting <= 0:
            return first
        try:
            rest = await fetch(waiting, FOLLOW_ON_SECONDS)
        except (TimeoutError, NatsError):
            # Nothing more was waiting (nats' timeouts are TimeoutErrors), or the connection
            # failed: the first message is in hand either way, and the next fetch meets it.
            rest = []
        return first + rest

    return fetch_promptly


def _pending_after(messages: list[Msg]) -> int:
    try:
        return messages[-1].metadata.num_pending if messages else 0
    except NotJSMessageError:  # nothing known, so nothing more asked for
        return 0


def fetch_promptly(js: JetStreamContext) -> None:
    """Make every pull subscription `js` creates from now on fetch promptly."""
    subscribe = js.pull_subscribe

    async def pull_subscribe(*args: Any, **kwargs: Any) -> JetStreamContext.PullSubscription:
        subscription = await subscribe(*args, **kwargs)
        # The instance's own attribute, so only the subscriptions made here change.
        subscription.fetch = prompt(subscription.fetch)  # type: ignore[method-assign,assignment]
        return subscription

    js.pull_subscribe = pull_subscribe  # type: ignore[method-assign]
