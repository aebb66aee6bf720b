"""Making people's words safe to print on a terminal.

Titles, notes and reasons come from other people. Printed raw, an escape sequence could set the
window title, clear the screen or write the clipboard (OSC 52), a bidirectional override could
make text read backwards, and a newline could forge a line of the audit timeline. Every such
character is shown as a visible escape instead; line breaks are kept only where the caller
indents what follows them.
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


def terminal_safe(text: str) -> str:
    """One line with every unsafe character shown as an escape (`\\x1b`, `\\u202e`)."""
    return "".join(_escape(c) if unsafe(c) else c for c in text)


def indented(text: str, indent: str) -> str:
    """A multi-line text on lines of its own, each after the first indented, so no line of it
    can pose as an entry; every other unsafe character escaped."""
    lines = text.replace("\r\n", "\n").split("\n")
    return ("\n" + indent).join(terminal_safe(line) for line in lines)
