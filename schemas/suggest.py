"""Naming what someone most likely meant when they mistype an id."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

# More than this many choices is a list nobody reads in a one-line error.
MAX_LISTED = 8


def closest(value: str, known: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(value, list(known), n=1)
    return found[0] if found else None


def unknown(what: str, value: str, known: Sequence[str], where: str = "the roster") -> str:
    """`unknown role 'vicitm_advocate' (did you mean victim_advocate?)`, or the choices when
    nothing is close, or that there are none."""
    if not known:
        return f"unknown {what} {value!r}: {where} declares none"
    close = closest(value, known)
    if close is not None:
        return f"unknown {what} {value!r} (did you mean {close}?)"
    listed = ", ".join(known[:MAX_LISTED]) + (", ..." if len(known) > MAX_LISTED else "")
    return f"unknown {what} {value!r}; {where} declares: {listed}"
