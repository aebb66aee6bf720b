"""A message's stream sequence, read from its reply subject as nats-py reads it."""

from __future__ import annotations

from typing import cast

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from services.core.readers import stream_sequence

REPLIES = [
    # Without a domain: $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.…
    "$JS.ACK.PATHWAYS_EVENTS.reader.1.4821.17.1763800000000000000.9",
    # With a domain and an account hash, and the random token newer servers add.
    "$JS.ACK.hub.ACCHASH.PATHWAYS_EVENTS.reader.2.90210.33.1763800000000000000.0.x7Yq",
    "$JS.ACK._.ACCHASH.PATHWAYS_EVENTS.reader.1.7.7.1763800000000000000.3",
]


def message(reply: str) -> Msg:
    # No client: nothing here acknowledges or replies.
    return Msg(cast("Client", None), subject="pw.evt.INC-AAAAAAAA.incident.logged", reply=reply)


@pytest.mark.parametrize("reply", REPLIES)
def test_the_sequence_is_the_one_nats_py_reads(reply: str) -> None:
    read = message(reply)
    assert stream_sequence(read) == read.metadata.sequence.stream


@pytest.mark.parametrize("reply", ["", "_INBOX.abc.def", "$JS.ACK.too.short"])
def test_a_message_not_from_jetstream_is_refused_as_nats_py_refuses_it(reply: str) -> None:
    with pytest.raises(NotJSMessageError):
        stream_sequence(message(reply))
