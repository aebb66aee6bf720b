"""People's words made safe to show, whatever the medium (terminal, Markdown, HTML).

Titles, notes and reasons come from other people. Printed raw, an escape sequence could set a
terminal's title or write its clipboard, a bidirectional override could make text read
backwards, and a newline could forge a line of the audit timeline. Every such character is shown
as a visible escape instead.
"""

from __future__ import annotations

from schemas.text import BIDI_CONTROLS, UNSAFE, unsafe

__all__ = ["BIDI_CONTROLS", "unsafe", "visible", "visible_lines"]


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """One line with every unsafe character shown as an escape (`\\x1b`, `\\u202e`)."""
    if UNSAFE.search(text) is None:
        return text  # the common case, checked in one pass: a report shows thousands of lines
    return "".join(_escape(c) if unsafe(c) else c for c in text)


def visible_lines(text: str) -> list[str]:
    """A multi-line text as its lines, each made visible (line breaks kept as breaks)."""
    return [visible(line) for line in text.replace("\r\n", "\n").split("\n")]
