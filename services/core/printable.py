"""People's words made safe to show, whatever the medium (terminal, Markdown, HTML).

Titles, notes and reasons come from other people. Printed raw, an escape sequence could set a
terminal's title or write its clipboard, a bidirectional override could make text read
backwards, and a newline could forge a line of the audit timeline. Every such character is shown
as a visible escape instead.
"""

from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides, isolates and marks: invisible, and they reorder text.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def unsafe(char: str) -> bool:
    """A character a terminal would act on or hide rather than show."""
    if char in BIDI_CONTROLS:
        return True
    category = unicodedata.category(char)
    # Cc: C0, DEL and C1 controls (ESC among them); Cs: lone surrogates; Zl/Zp: line and
    # paragraph separators, which some terminals break lines on.
    return category in ("Cc", "Cs", "Zl", "Zp")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """One line with every unsafe character shown as an escape (`\\x1b`, `\\u202e`)."""
    return "".join(_escape(c) if unsafe(c) else c for c in text)


def visible_lines(text: str) -> list[str]:
    """A multi-line text as its lines, each made visible (line breaks kept as breaks)."""
    return [visible(line) for line in text.replace("\r\n", "\n").split("\n")]
