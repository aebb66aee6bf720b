"""The one-pass check of whole texts names exactly the characters `unsafe` names, so showing a
text that holds none of them returns it unchanged, and one that does escapes each of them."""

from __future__ import annotations

import sys

from hypothesis import given
from hypothesis import strategies as st

from schemas.text import UNSAFE, unsafe
from services.core.printable import visible


def test_the_pattern_matches_every_unsafe_code_point_and_no_other() -> None:
    differing = [
        code
        for code in range(sys.maxunicode + 1)
        if (UNSAFE.match(chr(code)) is not None) != unsafe(chr(code))
    ]
    assert differing == []


def slow_visible(text: str) -> str:
    """`visible` as it was before the one-pass check: character by character."""
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") if unsafe(c) else c
        for c in text
    )


@given(st.text() | st.sampled_from(["plain words", "\x1b[2J", "a\u202eb", "x\u2028y\ud800"]))
def test_visible_escapes_exactly_as_character_by_character(text: str) -> None:
    assert visible(text) == slow_visible(text)
