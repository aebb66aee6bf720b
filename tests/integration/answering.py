"""A subject of the test's own answered through `rpc.serve` by a broker of its own, and a plain
look at the messages a request's reply is made of."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from faststream.nats import NatsRouter
from nats.aio.client import Client
from nats.aio.msg import Msg

from schemas.commands import GetTimeline, Reply
from schemas.principals import Principal
from services.core.broker import new_broker
from services.core.rpc import Handler, serve
from tests.support import AUDITOR, signing

QUERY = GetTimeline(incident_id="INC-00000000")


def big_reply(size: int) -> Reply:
    """A reply of about `size` bytes whose every line is different, so a part out of place or
    missing shows."""
    lines = [f"line {i:09d} " + "abcdefghij" * 4 for i in range(size // 55 + 1)]
    return Reply(ok=True, data={"lines": lines})


def replying(reply: Reply) -> Handler[GetTimeline]:
    async def handler(_query: GetTimeline, _principal: Principal) -> Reply:
        return reply

    return handler


@contextlib.asynccontextmanager
async def answering(url: str, subject: str, handler: Handler[GetTimeline]) -> AsyncIterator[None]:
    """`subject` served (as a `GetTimeline` query) while the block runs; `url` may name a user."""
    broker = new_broker(url)
    router = NatsRouter()
    verifier = signing()[0].verifier
    serve(router, subject, GetTimeline, handler, queue="tests", verifier=lambda: verifier)
    broker.include_router(router)
    await broker.start()
    try:
        await broker.connection.flush()  # the server has the subscription before anyone asks
        yield
    finally:
        await broker.stop()


async def raw_reply(nc: Client, subject: str, quiet: float = 0.5) -> list[Msg]:
    """Every message sent to the reply subject of one signed request, until none has come for
    `quiet` seconds."""
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    body = QUERY.model_dump_json().encode()
    headers = signing()[0].headers(AUDITOR, subject, body)
    await nc.publish(subject, body, reply=inbox, headers=headers)
    found = [await sub.next_msg(timeout=10)]
    while True:
        try:
            found.append(await sub.next_msg(timeout=quiet))
        except TimeoutError:
            await sub.unsubscribe()
            return found
