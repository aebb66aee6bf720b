"""Reading NATS the way an administrator dumping it would: every stream, every message by
sequence, and every file of the server's store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

# A JetStream API page lists at most this many streams; Pathways has far fewer.
STREAMS_PAGE = 256


@dataclass(frozen=True)
class RawMessage:
    stream: str
    seq: int
    subject: str
    raw: bytes  # subject, headers and body, as stored
    data: bytes  # the body alone

    def holds(self, needle: str) -> bool:
        return needle.encode() in self.raw


async def every_message(js: JetStreamContext) -> list[RawMessage]:
    """Every message every stream holds (KV buckets are streams too), read one by one with the
    JetStream API: nothing a consumer, a projection or a view would filter out."""
    streams = await js.streams_info()
    assert len(streams) < STREAMS_PAGE, "more streams than one page lists"
    found: list[RawMessage] = []
    for info in streams:
        assert info.config.name is not None and info.state is not None
        # An empty stream says its first sequence is 0, which no message has.
        for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
            try:
                msg = await js.get_msg(info.config.name, seq)
            except NotFoundError:
                continue  # deleted or purged (a bucket keeps one value per key)
            headers = "".join(f"{k}: {v}\n" for k, v in (msg.headers or {}).items())
            raw = (msg.subject or "").encode() + headers.encode() + (msg.data or b"")
            body = msg.data or b""
            found.append(RawMessage(info.config.name, seq, msg.subject or "", raw, body))
    return found


def files_holding(directory: Path, needle: str) -> list[Path]:
    """Every file under `directory` whose bytes contain `needle`."""
    wanted = needle.encode()
    return [p for p in directory.rglob("*") if p.is_file() and wanted in p.read_bytes()]
