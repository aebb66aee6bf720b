"""Replies larger than one NATS message: cut into numbered parts by the service, put back
together by the caller (services.core.rpc).

nats-server refuses a message larger than its `max_payload` (1 MB by default, the bundled
server's), headers included. A reply that fits goes as one message without these headers, as it
always did; a larger one goes to the request's reply subject as parts 1..n, each carrying
`Pw-Part: i` and `Pw-Parts: n`, in order, on the connection that received the request. A reply
past the bound below is not sent at all: the service answers that it was too large instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PART_HEADER = "Pw-Part"
PARTS_HEADER = "Pw-Parts"

# Room left in every message for its headers, which nats-server counts against max_payload
# with the body: the part numbers, FastStream's content-type and correlation id.
HEADER_ROOM = 4 * 1024
MAX_REPLY_BYTES = 64 * 1024 * 1024
# deploy/nats/accounts.conf lets each answering service publish this many messages to the reply
# subject of one request (allow_responses max); 64 MB at the default 1 MB max_payload is 65.
MAX_PARTS = 128


class ReplyTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(
            f"the reply is {size:,} bytes, more than a reply may carry "
            f"({MAX_REPLY_BYTES:,} bytes in at most {MAX_PARTS} parts); ask for less"
        )
        self.size = size


class BadPart(Exception):
    """A message that cannot be a part of the reply being put together."""


def part_size(max_payload: int) -> int:
    """The body one message may carry, leaving room for its headers."""
    return max(max_payload - HEADER_ROOM, max_payload // 2, 1)


def parts_needed(size: int, max_payload: int) -> int:
    """How many messages a reply of `size` bytes takes."""
    return max(1, math.ceil(size / part_size(max_payload)))


def split(body: bytes, max_payload: int) -> list[bytes]:
    """`body` as the messages that carry it: itself alone when it fits."""
    size = part_size(max_payload)
    if len(body) <= size:
        return [body]
    if len(body) > MAX_REPLY_BYTES or parts_needed(len(body), max_payload) > MAX_PARTS:
        raise ReplyTooLarge(len(body))
    return [body[start : start + size] for start in range(0, len(body), size)]


def part_headers(number: int, count: int) -> dict[str, str]:
    return {PART_HEADER: str(number), PARTS_HEADER: str(count)}


def _number(headers: dict[str, str], name: str) -> int:
    value = headers.get(name, "")
    if not value.isascii() or not value.isdigit():
        raise BadPart(f"{name} is {value[:20]!r}, not a number")
    return int(value)


@dataclass
class Assembly:
    """The parts of one reply as they arrive, in whatever order; `whole` once all are in."""

    count: int = 0
    parts: dict[int, bytes] = field(default_factory=dict)

    def add(self, headers: dict[str, str] | None, data: bytes) -> bytes | None:
        """Take one message; the whole reply once it completes it, else None."""
        if not headers or PARTS_HEADER not in headers:
            if self.count:
                raise BadPart("a message without part numbers among the parts")
            return data  # the reply in one message, as every reply that fits is sent
        number, count = _number(headers, PART_HEADER), _number(headers, PARTS_HEADER)
        if not 1 <= count <= MAX_PARTS or not 1 <= number <= count:
            raise BadPart(f"part {number} of {count}")
        if self.count and count != self.count:
            raise BadPart(f"part {number} says {count} parts, earlier ones {self.count}")
        if number in self.parts:
            raise BadPart(f"part {number} arrived twice")
        self.count = count
        self.parts[number] = data
        if len(self.parts) < count:
            return None
        return b"".join(self.parts[i] for i in range(1, count + 1))

    @property
    def received(self) -> int:
        return len(self.parts)
