"""Making people's words safe to print on a terminal (see services/core/printable.py): line
breaks are kept only where the caller indents what follows them."""

from __future__ import annotations

from services.core.printable import BIDI_CONTROLS, unsafe, visible, visible_lines

__all__ = ["BIDI_CONTROLS", "indented", "terminal_safe", "unsafe"]


def terminal_safe(text: str) -> str:
    """One line with every unsafe character shown as an escape (`\\x1b`, `\\u202e`)."""
    return visible(text)


def indented(text: str, indent: str) -> str:
    """A multi-line text on lines of its own, each after the first indented, so no line of it
    can pose as an entry; every other unsafe character escaped."""
    return ("\n" + indent).join(visible_lines(text))
