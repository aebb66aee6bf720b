"""Replies larger than one NATS message travel in parts through `rpc.serve` and `rpc.call`, and
arrive whole or as one clear error; a reply that fits is one message as before."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from schemas.commands import ErrorCode, GetTimeline, Reply
from schemas.principals import Principal
from services.core import reply_parts
from services.core.broker import connect
from services.core.reply_parts import PART_HEADER, PARTS_HEADER, part_headers
from services.core.rpc import ReplyIncomplete, ServiceUnavailable, call, ok
from tests.integration.answering import QUERY, answering, big_reply, raw_reply, replying
from tests.support import caller

pytestmark = pytest.mark.integration

MB = 1024 * 1024


@pytest.fixture
def subject() -> str:
    return f"tests.parts.{uuid.uuid4().hex}"


async def test_a_reply_of_several_megabytes_arrives_whole(
    nats_url: str, nc: Client, subject: str
) -> None:
    reply = big_reply(5 * MB)
    async with answering(nats_url, subject, replying(reply)):
        got = await call(nc, subject, QUERY, caller(QUERY), timeout=10)
        assert got == reply
        messages = await raw_reply(nc, subject)
    sent = reply.model_dump_json(exclude_none=True).encode()
    count = -(-len(sent) // reply_parts.part_size(nc.max_payload))
    assert count >= 5
    assert [(m.headers or {}).get(PART_HEADER) for m in messages] == [
        str(n) for n in range(1, count + 1)
    ]
    assert {(m.headers or {}).get(PARTS_HEADER) for m in messages} == {str(count)}
    assert all(len(m.data) <= nc.max_payload for m in messages)
    assert b"".join(m.data for m in messages) == sent


async def test_a_reply_that_fits_is_one_message_without_part_headers(
    nats_url: str, nc: Client, subject: str
) -> None:
    reply = big_reply(nc.max_payload // 2)
    async with answering(nats_url, subject, replying(reply)):
        assert await call(nc, subject, QUERY, caller(QUERY)) == reply
        (message,) = await raw_reply(nc, subject)
    headers = message.headers or {}
    assert PART_HEADER not in headers and PARTS_HEADER not in headers
    assert message.data == reply.model_dump_json(exclude_none=True).encode()


async def test_replies_of_calls_in_flight_together_reach_each_its_caller(
    nats_url: str, nc: Client, subject: str
) -> None:
    sizes = [3 * MB, 100, 2 * MB, 200, 300, 4 * MB]
    replies = {f"reply-{n}": big_reply(size) for n, size in enumerate(sizes)}

    async def handler(query: GetTimeline, _principal: Principal) -> Reply:
        await asyncio.sleep(0.05)  # all of them in flight at once
        return replies[query.phases[0]]

    asked = [QUERY.model_copy(update={"phases": (name,)}) for name in replies]
    async with answering(nats_url, subject, handler):
        got = await asyncio.gather(*(call(nc, subject, q, caller(q), timeout=10) for q in asked))
    assert got == list(replies.values())


Script = list[tuple[dict[str, str], bytes]]


@pytest.fixture
async def responder(nats_url: str, subject: str) -> AsyncIterator[list[Script]]:
    """A plain responder on `subject`: it answers each request with the messages of the next
    script the test gives it, as they are (headers, body)."""
    scripts: list[Script] = []
    server = await connect(nats_url, name="tests-responder")

    async def respond(msg: Msg) -> None:
        for headers, data in scripts.pop(0):
            await server.publish(msg.reply, data, headers=headers)

    await server.subscribe(subject, cb=respond)
    await server.flush()
    yield scripts
    await server.close()


def parts_of(reply: Reply, count: int) -> Script:
    body = reply.model_dump_json(exclude_none=True).encode()
    size = -(-len(body) // count)
    return [(part_headers(n, count), body[(n - 1) * size : n * size]) for n in range(1, count + 1)]


async def test_parts_sent_by_anyone_in_order_are_put_together(
    nc: Client, subject: str, responder: list[Script]
) -> None:
    reply = big_reply(10_000)
    responder.append(parts_of(reply, 3))
    assert await call(nc, subject, QUERY, caller(QUERY), timeout=2) == reply


async def test_a_missing_part_is_one_clear_error_at_the_timeout(
    nc: Client, subject: str, responder: list[Script]
) -> None:
    first, _, third = parts_of(big_reply(10_000), 3)
    responder.append([first, third])
    started = time.monotonic()
    with pytest.raises(ReplyIncomplete) as raised:
        await call(nc, subject, QUERY, caller(QUERY), timeout=1)
    assert time.monotonic() - started < 3
    assert str(raised.value) == (
        f"the reply on {subject} arrived incomplete: 2 of 3 parts, then nothing for 1s"
    )
    assert isinstance(raised.value, ServiceUnavailable)  # every caller already says it in one line


async def test_a_malformed_part_is_one_clear_error_at_once(
    nc: Client, subject: str, responder: list[Script]
) -> None:
    first, second, _ = parts_of(big_reply(10_000), 3)
    responder.append([first, second, second])
    started = time.monotonic()
    with pytest.raises(ReplyIncomplete, match="arrived malformed: part 2 arrived twice"):
        await call(nc, subject, QUERY, caller(QUERY), timeout=5)
    assert time.monotonic() - started < 2


async def test_no_responder_and_no_reply_are_named_as_before(
    nc: Client, subject: str, responder: list[Script]
) -> None:
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="no Pathways service answers tests.parts.none"):
        await call(nc, "tests.parts.none", QUERY, caller(QUERY), timeout=5)
    assert time.monotonic() - started < 2  # the server said so; nobody waited for the timeout
    responder.append([])  # the responder hears the request and answers nothing
    with pytest.raises(ServiceUnavailable, match=f"^no reply on {subject} within 1s$"):
        await call(nc, subject, QUERY, caller(QUERY), timeout=1)


async def test_a_reply_past_the_bound_is_a_failure_naming_its_size(
    nats_url: str, nc: Client, subject: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reply_parts, "MAX_REPLY_BYTES", 2 * MB)
    reply = big_reply(3 * MB)
    size = len(reply.model_dump_json(exclude_none=True))
    async with answering(nats_url, subject, replying(reply)):
        got = await call(nc, subject, QUERY, caller(QUERY), timeout=10)
        assert (await call(nc, subject, QUERY, caller(QUERY))) == got  # still serving
    assert not got.ok and got.error is not None
    assert got.error.code is ErrorCode.INTERNAL
    assert f"the reply is {size:,} bytes, more than a reply may carry" in got.error.message
    assert "2,097,152 bytes" in got.error.message


async def test_a_small_call_still_answers(nats_url: str, nc: Client, subject: str) -> None:
    async with answering(nats_url, subject, replying(ok(changed=False))):
        assert await call(nc, subject, QUERY, caller(QUERY)) == Reply(ok=True)
