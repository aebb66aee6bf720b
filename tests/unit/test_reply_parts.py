"""Cutting a reply into parts and putting it back together (services.core.reply_parts)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.core import reply_parts
from services.core.reply_parts import (
    HEADER_ROOM,
    MAX_PARTS,
    PART_HEADER,
    PARTS_HEADER,
    Assembly,
    BadPart,
    ReplyTooLarge,
    part_headers,
    part_size,
    split,
)

MB = 1024 * 1024


def test_a_reply_that_fits_is_itself_alone() -> None:
    body = b"x" * part_size(MB)
    assert split(body, MB) == [body]
    assert split(b"", MB) == [b""]


def test_a_reply_one_byte_too_large_for_one_message_is_two_parts() -> None:
    body = b"x" * (part_size(MB) + 1)
    parts = split(body, MB)
    assert [len(p) for p in parts] == [MB - HEADER_ROOM, 1]
    assert b"".join(parts) == body


def test_every_part_leaves_room_for_its_headers() -> None:
    for max_payload in (MB, 8 * MB, 64 * 1024):
        parts = split(random.randbytes(3 * MB), max_payload)
        assert all(len(p) + HEADER_ROOM <= max_payload for p in parts)


def test_a_reply_past_the_bound_is_refused_naming_its_size() -> None:
    with pytest.raises(ReplyTooLarge, match="67,108,865 bytes"):
        split(b"x" * (64 * MB + 1), 8 * MB)
    # With a small max_payload the count of parts is what runs out first.
    with pytest.raises(ReplyTooLarge, match=f"at most {MAX_PARTS} parts"):
        split(b"x" * (part_size(64 * 1024) * MAX_PARTS + 1), 64 * 1024)


def test_the_bound_allows_64_mb_at_the_default_max_payload() -> None:
    assert part_size(MB) * MAX_PARTS >= reply_parts.MAX_REPLY_BYTES


@given(size=st.integers(0, 40_000), max_payload=st.integers(5_000, 20_000), seed=st.integers())
def test_parts_in_any_order_give_back_the_reply(size: int, max_payload: int, seed: int) -> None:
    body = random.Random(seed).randbytes(size)
    parts = split(body, max_payload)
    numbered = list(enumerate(parts, start=1))
    random.Random(seed).shuffle(numbered)
    assembly = Assembly()
    found = [
        assembly.add(part_headers(n, len(parts)) if len(parts) > 1 else None, p)
        for n, p in numbered
    ]
    assert found[-1] == body
    assert all(f is None for f in found[:-1])


def test_a_message_without_part_headers_is_the_whole_reply() -> None:
    assert Assembly().add(None, b"{}") == b"{}"
    assert Assembly().add({"content-type": "application/json"}, b"{}") == b"{}"


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        (part_headers(1, 3), part_headers(1, 3), "arrived twice"),
        (part_headers(1, 3), part_headers(2, 4), "says 4 parts"),
        (part_headers(1, 3), {}, "without part numbers"),
        (part_headers(1, 3), part_headers(4, 3), "part 4 of 3"),
        (part_headers(1, 3), {PART_HEADER: "2", PARTS_HEADER: "three"}, "not a number"),
        (part_headers(1, 3), {PART_HEADER: "0", PARTS_HEADER: "3"}, "part 0 of 3"),
        (part_headers(1, 3), {PART_HEADER: "²", PARTS_HEADER: "3"}, "not a number"),
    ],
)
def test_what_cannot_be_a_part_is_refused(
    first: dict[str, str], second: dict[str, str], problem: str
) -> None:
    assembly = Assembly()
    assert assembly.add(first, b"a") is None
    with pytest.raises(BadPart, match=problem):
        assembly.add(second, b"b")


def test_more_parts_than_the_bound_is_refused() -> None:
    with pytest.raises(BadPart):
        Assembly().add(part_headers(1, MAX_PARTS + 1), b"a")
